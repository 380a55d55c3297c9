using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>
/// What every display has in common: it tracks rate, ETA and elapsed time across snapshots, decides between
/// redrawing in place (interactive ANSI terminal) and plain log lines (redirected output, CI), and makes the
/// <see cref="IPipelineDisplay"/> calls safe to overlap. Displays differ only in the renderable they build.
/// </summary>
/// <remarks>
/// Lock order: <see cref="_gate"/>, then the console's render lock (taken inside <see cref="IAnsiConsole.Write"/>).
/// Console writes happen under <see cref="_gate"/> so a timer update can never interleave with the final summary.
/// </remarks>
internal sealed class DisplayEngine
{
    /// <summary>
    /// The least time between two plain progress lines, so a fast update interval does not flood a log: about one
    /// line a second. It is a little under a second so that a one-second timer, which jitters, still prints every tick.
    /// </summary>
    public static readonly TimeSpan PlainLineInterval = TimeSpan.FromMilliseconds(900);

    private readonly IAnsiConsole _console;
    private readonly Func<DisplayFrame, IRenderable> _build;
    private readonly bool _renderWhenPlain;
    private readonly Lock _gate = new();

    // All protected by _gate.
    private readonly RateEstimator _rate = new();
    private IReadOnlyList<string> _stageOrder = [];
    private IReadOnlyList<string> _workerOrder = [];
    private long? _total;
    private LiveRegion? _live;
    private bool _finished;
    private DateTimeOffset? _lastPlainLine;

    /// <summary>Initializes a new instance of the <see cref="DisplayEngine"/> class.</summary>
    /// <param name="console">The console to write to.</param>
    /// <param name="build">Builds the renderable for a frame.</param>
    /// <param name="renderWhenPlain">
    /// Whether the final renderable is also written on a non-interactive output, after the summary line
    /// (dashboards: yes, their tables are worth keeping in a log; the progress bar: no, the line says it all).
    /// </param>
    public DisplayEngine(IAnsiConsole console, Func<DisplayFrame, IRenderable> build, bool renderWhenPlain)
    {
        ArgumentNullException.ThrowIfNull(console);
        _console = console;
        _build = build;
        _renderWhenPlain = renderWhenPlain;
    }

    /// <summary>Gets whether the console can be redrawn in place: interactive and ANSI-capable (not redirected).</summary>
    public bool IsInteractive
    {
        get
        {
            IReadOnlyCapabilities capabilities = _console.Profile.Capabilities;
            return capabilities.Interactive && capabilities.Ansi;
        }
    }

    /// <summary>Begins a run. Failures to read the pipeline or to draw are swallowed: a display never breaks a run.</summary>
    /// <param name="pipeline">The pipeline being run.</param>
    /// <param name="totalItems">The number of input items, or <see langword="null"/> when unknown.</param>
    public void Start(IPipelineMonitor pipeline, int? totalItems)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        lock (_gate)
        {
            try
            {
                StopLive();
                _rate.Reset();
                _lastPlainLine = null;
                _finished = false;
                _total = totalItems is >= 0 ? totalItems : null;
                (_stageOrder, _workerOrder) = ReadOrder(pipeline);

                DashboardSnapshot? first = TryGetSnapshot(pipeline);
                if (first is not null)
                {
                    _rate.Observe(DisplayFrame.DoneOf(first.PipelineStats), first.Timestamp);
                }

                if (IsInteractive)
                {
                    _live = new LiveRegion(_console);
                    _live.Attach();
                    if (first is not null)
                    {
                        _live.Update(_build(CreateFrame(first, isFinal: false)));
                    }
                }
                else
                {
                    _console.Write(new PlainLine(DisplayFormat.StartLine(first?.Timestamp, _total, _stageOrder)));
                }
            }
            catch (Exception ex) when (IsRecoverable(ex))
            {
                // Drawing failed (a closed or broken output): the run goes on without a display.
            }
        }
    }

    /// <summary>Shows <paramref name="snapshot"/>. Never throws; ignored after <see cref="Finish"/>.</summary>
    /// <param name="snapshot">The pipeline's state now.</param>
    public void Update(DashboardSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_finished)
            {
                return;
            }

            try
            {
                _rate.Observe(DisplayFrame.DoneOf(snapshot.PipelineStats), snapshot.Timestamp);
                if (_live is not null)
                {
                    _live.Update(_build(CreateFrame(snapshot, isFinal: false)));
                }
                else if (_lastPlainLine is not { } last
                    || snapshot.Timestamp - last >= PlainLineInterval
                    || snapshot.Timestamp < last)
                {
                    _lastPlainLine = snapshot.Timestamp;
                    _console.Write(new PlainLine(DisplayFormat.ProgressLine(CreateFrame(snapshot, isFinal: false))));
                }
            }
            catch (Exception ex) when (IsRecoverable(ex))
            {
                // Never let a drawing problem reach the pipeline's timer; the next update tries again.
            }
        }
    }

    /// <summary>Replaces the live view with the final summary. Later updates are ignored.</summary>
    /// <param name="finalSnapshot">The pipeline's final state.</param>
    public void Finish(DashboardSnapshot finalSnapshot)
    {
        ArgumentNullException.ThrowIfNull(finalSnapshot);
        lock (_gate)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            try
            {
                _rate.Observe(DisplayFrame.DoneOf(finalSnapshot.PipelineStats), finalSnapshot.Timestamp);
                DisplayFrame frame = CreateFrame(finalSnapshot, isFinal: true);
                bool live = _live is not null;
                StopLive();
                if (live)
                {
                    _console.Write(_build(frame));
                }
                else
                {
                    _console.Write(new PlainLine(DisplayFormat.SummaryLine(frame)));
                    if (_renderWhenPlain)
                    {
                        _console.Write(_build(frame));
                    }
                }
            }
            catch (Exception ex) when (IsRecoverable(ex))
            {
                // The output is gone; there is nobody left to show the summary to.
            }
        }
    }

    /// <summary>Builds the frame a display would draw for <paramref name="snapshot"/> now.</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="isFinal">Whether this is the end-of-run summary.</param>
    /// <returns>The frame.</returns>
    private DisplayFrame CreateFrame(DashboardSnapshot snapshot, bool isFinal)
    {
        long done = DisplayFrame.DoneOf(snapshot.PipelineStats);
        TimeSpan? elapsed = _rate.StartedAt is { } start && snapshot.Timestamp >= start ? snapshot.Timestamp - start : null;

        // While running, the smoothed rate follows recent speed; the summary reports the whole run's average.
        double? rate = isFinal ? _rate.AverageRate ?? _rate.Rate : _rate.Rate;
        TimeSpan? eta = _total is { } total ? RateEstimator.Estimate(total - done, rate) : null;
        return new DisplayFrame
        {
            Snapshot = snapshot,
            Total = _total,
            Rate = rate,
            Eta = isFinal ? null : eta,
            Elapsed = elapsed,
            IsFinal = isFinal,
            StageOrder = _stageOrder,
            WorkerOrder = _workerOrder,
        };
    }

    private void StopLive()
    {
        LiveRegion? live = _live;
        _live = null;
        live?.Detach();
    }

    private static (IReadOnlyList<string> Stages, IReadOnlyList<string> Workers) ReadOrder(IPipelineMonitor pipeline)
    {
        try
        {
            IReadOnlyDictionary<string, IReadOnlyList<string>> names = pipeline.GetWorkerNames();
            return (names.Keys.ToArray(), names.Values.SelectMany(w => w).ToArray());
        }
        catch (Exception ex) when (IsRecoverable(ex))
        {
            // Without the pipeline's order, the snapshot's own order is used.
            return ([], []);
        }
    }

    private static DashboardSnapshot? TryGetSnapshot(IPipelineMonitor pipeline)
    {
        try
        {
            return pipeline.GetDashboardSnapshot();
        }
        catch (Exception ex) when (IsRecoverable(ex))
        {
            // The first timer update will provide one.
            return null;
        }
    }

    private static bool IsRecoverable(Exception ex) => ex is not OutOfMemoryException;
}
