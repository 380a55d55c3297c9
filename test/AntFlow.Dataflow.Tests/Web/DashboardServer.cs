using System.Collections.Concurrent;
using System.Diagnostics;

namespace AntFlow.Dataflow.Tests.Web;

/// <summary>
/// The web dashboard example, run as a child process (<c>dotnet WebDashboard.dll --urls http://127.0.0.1:0</c>) on a
/// free loopback port that the app reports once it listens. Disposing kills it.
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    private const string ListeningPrefix = "Web dashboard listening on ";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private DashboardServer(Process process, ConcurrentQueue<string> output, Uri address)
    {
        _process = process;
        _output = output;
        Address = address;
    }

    /// <summary>Gets the address the app listens on, for example <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; }

    /// <summary>Gets everything the app wrote so far (standard output and error), for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Finds the example's build output next to this test assembly's (same configuration).</summary>
    /// <returns>The path of <c>WebDashboard.dll</c>, or null when the example is not built.</returns>
    public static string? FindAppPath()
    {
        // This assembly runs from test/AntFlow.Dataflow.Tests/bin/<Configuration>/<tfm>/.
        var tfmDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string? configuration = tfmDirectory.Parent?.Name;
        string? root = FindRepositoryRoot();
        if (root is null || configuration is null)
        {
            return null;
        }

        string path = Path.Combine(root, "examples", "WebDashboard", "bin", configuration, tfmDirectory.Name, "WebDashboard.dll");
        return File.Exists(path) ? path : null;
    }

    /// <summary>The folder that holds AntFlow.Dataflow.sln, above this test assembly.</summary>
    public static string? FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AntFlow.Dataflow.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    public static async Task<DashboardServer> StartAsync(string appPath, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(FindDotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(appPath)!,
        };
        start.ArgumentList.Add(appPath);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_NOLOGO"] = "1";

        var output = new ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                return;
            }

            output.Enqueue(line);
            if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
            {
                listening.TrySetResult(new Uri(line[ListeningPrefix.Length..].Trim()));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
            }
        };
        process.Exited += (_, _) => listening.TrySetException(
            new InvalidOperationException($"The dashboard exited before listening:{Environment.NewLine}{string.Join(Environment.NewLine, output)}"));

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Uri address = await listening.Task.WaitAsync(StartTimeout, cancellationToken);
            return new DashboardServer(process, output, address);
        }
        catch
        {
            await KillAsync(process);
            throw;
        }
    }

    public ValueTask DisposeAsync() => new(KillAsync(_process));

    private static async Task KillAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(ExitTimeout);
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (InvalidOperationException)
        {
            // It has already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>The dotnet host running this test, so the app runs on the same runtime.</summary>
    private static string FindDotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        string? processPath = Environment.ProcessPath;
        return processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
    }
}
