using AntFlow.Dataflow.Console.Rendering;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console;

/// <summary>
/// A one-line progress bar: items done out of the total (processed + failed + cancelled), percentage, throughput,
/// estimated time left and failures. When the total is not known it shows the count and throughput instead of a bar.
/// </summary>
/// <remarks>
/// On an interactive terminal the line is redrawn in place at every update; when the output is redirected or
/// not a terminal, a plain line such as <c>[12:00:01] 120/200 done (60.0%), 3 failed, 40.1 items/s, ETA 00:00:02</c>
/// is written at most once a second. The run ends with a one-line summary either way.
/// Use it through <see cref="RunOptions.Display"/>; one instance can serve several runs, one after the other.
/// </remarks>
public sealed class ProgressDisplay : IPipelineDisplay
{
    private readonly DisplayEngine _engine;

    /// <summary>Initializes a new instance of the <see cref="ProgressDisplay"/> class that draws on the terminal (<see cref="AnsiConsole.Console"/>).</summary>
    public ProgressDisplay()
        : this(AnsiConsole.Console)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ProgressDisplay"/> class that draws on <paramref name="console"/>.</summary>
    /// <param name="console">The console to draw on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="console"/> is <see langword="null"/>.</exception>
    public ProgressDisplay(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        _engine = new DisplayEngine(console, BuildRenderable, renderWhenPlain: false);
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
    internal static IRenderable BuildRenderable(DisplayFrame frame) => DashboardWidgets.ProgressLine(frame);
}
