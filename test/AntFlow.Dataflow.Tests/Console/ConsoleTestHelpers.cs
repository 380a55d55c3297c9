using AntFlow.Dataflow.Console.Rendering;
using Spectre.Console;
using Spectre.Console.Rendering;
using Spectre.Console.Testing;

namespace AntFlow.Dataflow.Tests.Console;

/// <summary>Shared helpers for rendering displays to a <see cref="TestConsole"/>.</summary>
internal static class ConsoleTestHelpers
{
    public const string Esc = "\u001b";

    /// <summary>A console like redirected output: not interactive and without ANSI support, escape codes emitted if any were written.</summary>
    public static TestConsole RedirectedConsole(int width = 120)
    {
        var console = new TestConsole().Width(width).SupportsAnsi(false);
        console.EmitAnsiSequences = true;
        return console;
    }

    /// <summary>A console like an interactive ANSI terminal, escape codes kept in the output.</summary>
    public static TestConsole TerminalConsole(int width = 120, int height = 60)
    {
        var console = new TestConsole().Width(width).Height(height).Interactive();
        console.EmitAnsiSequences = true;
        return console;
    }

    /// <summary>Renders <paramref name="renderable"/> as plain text.</summary>
    public static string Render(IRenderable renderable, int width = 120)
    {
        using var console = new TestConsole().Width(width);
        console.Write(renderable);
        return console.Output;
    }

    public static DisplayFrame Frame(
        DashboardSnapshot snapshot,
        long? total = 200,
        double? rate = 40.1,
        TimeSpan? eta = null,
        TimeSpan? elapsed = null,
        bool isFinal = false,
        IReadOnlyList<string>? stageOrder = null,
        IReadOnlyList<string>? workerOrder = null) => new()
        {
            Snapshot = snapshot,
            Total = total,
            Rate = rate,
            Eta = eta ?? (total is null ? null : TimeSpan.FromSeconds(2)),
            Elapsed = elapsed ?? TimeSpan.FromSeconds(3),
            IsFinal = isFinal,
            StageOrder = stageOrder ?? [],
            WorkerOrder = workerOrder ?? [],
        };

    /// <summary>The local wall-clock text plain lines start with.</summary>
    public static string Clock(DateTimeOffset timestamp) =>
        TimeZoneInfo.ConvertTime(timestamp, TimeZoneInfo.Local).ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="output"/> holds an escape character (compared ordinally: culture-aware search ignores control characters).</summary>
    public static bool HasEscapeCodes(string output) => output.Contains(Esc, StringComparison.Ordinal);

    /// <summary>Removes ANSI escape sequences, leaving the visible text.</summary>
    public static string StripAnsi(string output) =>
        System.Text.RegularExpressions.Regex.Replace(output, @"\u001b\[[0-9;?]*[A-Za-z]", string.Empty);

    public static string[] NonEmptyLines(string output) =>
        output.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public static int CountOf(string text, string value)
    {
        int count = 0;
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
