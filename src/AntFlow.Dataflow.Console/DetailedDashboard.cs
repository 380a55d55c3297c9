using AntFlow.Dataflow.Console.Rendering;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console;

/// <summary>
/// A progress line, a per-stage table (workers busy, queued, running, done, failed, mean processing time) and a
/// worker performance table (processed, failed, mean processing time, success rate per worker).
/// </summary>
/// <remarks>
/// On an interactive terminal the tables are redrawn in place at every update (cropped to the terminal height);
/// when the output is redirected or not a terminal, plain progress lines are written instead (at most one a
/// second), then the final tables once.
/// Use it through <see cref="RunOptions.Display"/>; one instance can serve several runs, one after the other.
/// </remarks>
public sealed class DetailedDashboard : IPipelineDisplay
{
    private readonly DisplayEngine _engine;

    /// <summary>Initializes a new instance of the <see cref="DetailedDashboard"/> class that draws on the terminal (<see cref="AnsiConsole.Console"/>).</summary>
    public DetailedDashboard()
        : this(AnsiConsole.Console)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="DetailedDashboard"/> class that draws on <paramref name="console"/>.</summary>
    /// <param name="console">The console to draw on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="console"/> is <see langword="null"/>.</exception>
    public DetailedDashboard(IAnsiConsole console)
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
    internal static IRenderable BuildRenderable(DisplayFrame frame) => new Rows(DashboardWidgets.ProgressLine(frame), DashboardWidgets.StageTable(frame), DashboardWidgets.WorkerPerformanceTable(frame));
}
