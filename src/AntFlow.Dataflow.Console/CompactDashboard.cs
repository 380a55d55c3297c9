using AntFlow.Dataflow.Console.Rendering;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console;

/// <summary>
/// A single panel: progress bar, throughput, estimated time left, elapsed time, and the processed, failed,
/// in-flight, skipped and cancelled counts.
/// </summary>
/// <remarks>
/// On an interactive terminal the panel is redrawn in place at every update; when the output is redirected or
/// not a terminal, plain progress lines are written instead (at most one a second), then the final panel once.
/// Use it through <see cref="RunOptions.Display"/>; one instance can serve several runs, one after the other.
/// </remarks>
public sealed class CompactDashboard : IPipelineDisplay
{
    private readonly DisplayEngine _engine;

    /// <summary>Initializes a new instance of the <see cref="CompactDashboard"/> class that draws on the terminal (<see cref="AnsiConsole.Console"/>).</summary>
    public CompactDashboard()
        : this(AnsiConsole.Console)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CompactDashboard"/> class that draws on <paramref name="console"/>.</summary>
    /// <param name="console">The console to draw on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="console"/> is <see langword="null"/>.</exception>
    public CompactDashboard(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        _engine = new DisplayEngine(console, BuildRenderable, renderWhenPlain: true);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> is <see langword="null"/>.</exception>
    public void OnStart(IPipelineMonitor pipeline, int? totalItems) => _engine.Start(pipeline, totalItems);

    /// <inheritdoc/>
    /// <remarks>Never throws: a snapshot that cannot be drawn is skipped. Calls after <see cref="OnFinish"/> are ignored.</remarks>
    public void OnUpdate(DashboardSnapshot snapshot) => _engine.Update(snapshot);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="finalSnapshot"/> is <see langword="null"/>.</exception>
    public void OnFinish(DashboardSnapshot finalSnapshot) => _engine.Finish(finalSnapshot);

    /// <summary>Builds what the display shows for <paramref name="frame"/>.</summary>
    /// <param name="frame">The frame to show.</param>
    /// <returns>The renderable.</returns>
    internal static IRenderable BuildRenderable(DisplayFrame frame) => DashboardWidgets.SummaryPanel(frame);
}
