using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace FakeBatchService;

/// <summary>
/// The fake batch service running in this process on a loopback port: start it, point a client at
/// <see cref="BaseAddress"/>, read <see cref="GetStats"/>, dispose it.
/// </summary>
public sealed class FakeBatchServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly BatchServiceState _state;
    private int _disposed;

    private FakeBatchServer(WebApplication app, BatchServiceState state, Uri baseAddress)
    {
        _app = app;
        _state = state;
        BaseAddress = baseAddress;
    }

    /// <summary>Gets the address the service listens on, for example <c>http://127.0.0.1:49152/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Starts the service on a free loopback port.</summary>
    /// <param name="options">The service's knobs; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static Task<FakeBatchServer> StartAsync(FakeBatchServiceOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync(options, new Uri("http://127.0.0.1:0"), cancellationToken);

    /// <summary>Starts the service on <paramref name="listenAddress"/> (port 0 picks a free port).</summary>
    /// <param name="options">The service's knobs; <see langword="null"/> for the defaults.</param>
    /// <param name="listenAddress">Where to listen, for example <c>http://127.0.0.1:0</c>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="listenAddress"/> is null.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static async Task<FakeBatchServer> StartAsync(FakeBatchServiceOptions? options, Uri listenAddress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listenAddress);
        options ??= new FakeBatchServiceOptions();
        (WebApplication app, BatchServiceState state) = CreateApplication(options, [], listenAddress.ToString(), embedded: true);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            string bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new FakeBatchServer(app, state, new Uri(bound.TrimEnd('/') + "/"));
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Returns what the service has done so far (the same numbers as <c>GET /stats</c>).</summary>
    /// <returns>A snapshot of the counters.</returns>
    public FakeBatchServiceStats GetStats() => _state.GetStats();

    /// <summary>Stops the service; calls that hang are released.</summary>
    /// <returns>A task that completes when the service has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Builds the web application (shared by <see cref="StartAsync(FakeBatchServiceOptions?, CancellationToken)"/> and the service's own program).</summary>
    internal static (WebApplication App, BatchServiceState State) CreateApplication(FakeBatchServiceOptions options, string[] args, string? urls, bool embedded)
    {
        options.Validate();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(FakeBatchServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (urls is not null)
        {
            builder.WebHost.UseUrls(urls);
        }

        if (options.ConfigureLogging is { } configureLogging)
        {
            configureLogging(builder.Logging);
        }
        else
        {
            builder.Logging.ClearProviders();
        }

        if (embedded)
        {
            builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        }

        // Calls that hang are released when the host stops, so stopping never waits long.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        var state = new BatchServiceState(options);
        builder.Services.AddSingleton(state);
        WebApplication app = builder.Build();
        BatchEndpoints.Map(app);
        return (app, state);
    }
}
