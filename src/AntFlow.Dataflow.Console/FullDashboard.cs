using AntFlow.Dataflow.Console.Rendering;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console;

/// <summary>
/// Everything the other displays show and more: the summary panel, the per-stage table, the recent errors
/// (id, stage, exception type and message of the last ten failed items, and counts by type), and a worker grid
/// showing for each worker whether it is busy, its current item, its current task or status text
/// (<c>WorkerContext.SetTaskStatus</c>), how long it has been on the item, and its performance so far.
/// </summary>
/// <remarks>
/// On an interactive terminal the dashboard is redrawn in place at every update (cropped to the terminal height:
/// enlarge the window to see every worker); when the output is redirected or not a terminal, plain progress lines
/// are written instead (at most one a second), then the whole dashboard once at the end.
/// Use it through <see cref="RunOptions.Display"/>; one instance can serve several runs, one after the other.
/// </remarks>
public sealed class FullDashboard : IPipelineDisplay
{
    private readonly DisplayEngine _engine;

    /// <summary>Initializes a new instance of the <see cref="FullDashboard"/> class that draws on the terminal (<see cref="AnsiConsole.Console"/>).</summary>
    public FullDashboard()
        : this(AnsiConsole.Console)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FullDashboard"/> class that draws on <paramref name="console"/>.</summary>
    /// <param name="console">The console to draw on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="console"/> is <see langword="null"/>.</exception>
    public FullDashboard(IAnsiConsole console)
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
    internal static IRenderable BuildRenderable(DisplayFrame frame) => new Rows(DashboardWidgets.SummaryPanel(frame), DashboardWidgets.StageTable(frame), DashboardWidgets.ErrorsPanel(frame), DashboardWidgets.WorkerGrid(frame));
}
