using AntFlow.Dataflow;

namespace WebDashboard;

/// <summary>
/// Owns the demo run: starts it, hard-stops it, and remembers its state and its pipeline after it ends, so every page
/// (including one opened or reloaded later) sees the same run.
/// </summary>
internal sealed partial class DemoRunner : IAsyncDisposable
{
    public const string Idle = "idle";
    public const string Running = "running";
    public const string Stopping = "stopping";
    public const string Completed = "completed";
    public const string Stopped = "stopped";
    public const string Failed = "failed";

    private readonly Lock _lock = new();
    private readonly ActivityFeed _feed;
    private readonly TimeProvider _time;
    private readonly ILogger<DemoRunner> _logger;
    private readonly int _items;
    private Pipeline<int, string> _monitor; // protected by _lock; the current run's pipeline, or the last one's
    private Pipeline<int, string>? _pipeline; // protected by _lock; set while a run is going on
    private RunInfo _run; // protected by _lock
    private Task _runTask = Task.CompletedTask; // protected by _lock

    public DemoRunner(ActivityFeed feed, TimeProvider time, ILogger<DemoRunner> logger, DemoOptions options)
    {
        _feed = feed;
        _time = time;
        _logger = logger;
        _items = options.Items;
        _run = new RunInfo(0, Idle, _items, StartedAt: null, EndedAt: null, Error: null);

        // A pipeline that never runs, so the page can draw the stages and idle workers before the first run.
        _monitor = DemoPipeline.Create(tracker: null, time);
    }

    /// <summary>Raised outside any lock after every change of <see cref="RunInfo.State"/>.</summary>
    public event Action<RunInfo>? StateChanged;

    /// <summary>Reads the run's state and its pipeline at one moment.</summary>
    public (RunInfo Run, Pipeline<int, string> Pipeline) GetCurrent()
    {
        lock (_lock)
        {
            return (_run, _monitor);
        }
    }

    /// <summary>Starts a new run, unless one is going on.</summary>
    /// <returns>The new run, or null when a run is already going on.</returns>
    public RunInfo? TryStart()
    {
        RunInfo run;
        lock (_lock)
        {
            if (_run.State is Running or Stopping)
            {
                return null;
            }

            var tracker = new StatusTracker(new StatusTrackerOptions { MaxHistoryPerItem = 8, MaxFinishedItems = 1_000 });
            Pipeline<int, string> pipeline = DemoPipeline.Create(tracker, _time);
            run = new RunInfo(_run.RunId + 1, Running, _items, _time.GetUtcNow(), EndedAt: null, Error: null);
            _run = run;
            _monitor = pipeline;
            _pipeline = pipeline;

            // Task.Run: feeding starts synchronously inside RunAsync and must not run under the lock.
            _runTask = Task.Run(() => RunAsync(run.RunId, pipeline, tracker));
        }

        LogStarted(_logger, run.RunId, _items);
        StateChanged?.Invoke(run);
        return run;
    }

    /// <summary>Hard-stops the run going on (running tasks are cancelled, queued items come out as cancelled).</summary>
    /// <returns>The stopped run, or null when no run was going on.</returns>
    public async Task<RunInfo?> StopAsync()
    {
        Pipeline<int, string>? pipeline;
        Task runTask;
        RunInfo? stopping = null;
        lock (_lock)
        {
            pipeline = _pipeline;
            runTask = _runTask;
            if (pipeline is null)
            {
                return null;
            }

            if (_run.State == Running)
            {
                stopping = _run with { State = Stopping };
                _run = stopping;
            }
        }

        if (stopping is not null)
        {
            StateChanged?.Invoke(stopping);
        }

        await pipeline.ShutdownAsync();
        await runTask;
        lock (_lock)
        {
            return _run;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
    }

    private async Task RunAsync(int runId, Pipeline<int, string> pipeline, StatusTracker tracker)
    {
        // The page gets every item and task event through the tracker's subscribers. The handlers only copy the event
        // into the feed, so they never hold the pipeline back.
        using IDisposable statusSubscription = tracker.Subscribe(e =>
        {
            _feed.Add(ActivityFeed.FromStatus(e));
            return Task.CompletedTask;
        });
        using IDisposable taskSubscription = tracker.Subscribe((TaskEvent e) =>
        {
            _feed.Add(ActivityFeed.FromTask(e));
            return Task.CompletedTask;
        });

        string? error = null;
        try
        {
            await pipeline.RunAsync(Enumerable.Range(0, _items));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The demo must report, not crash the server: the page shows the message.
            error = ex.Message;
            LogRunFailed(_logger, ex, runId);
        }

        await tracker.FlushAsync();
        await tracker.DisposeAsync();

        RunInfo ended;
        lock (_lock)
        {
            string state = error is not null ? Failed : _run.State == Stopping ? Stopped : Completed;
            ended = _run with { State = state, EndedAt = _time.GetUtcNow(), Error = error };
            _run = ended;
            _pipeline = null;
        }

        LogEnded(_logger, runId, ended.State);
        StateChanged?.Invoke(ended);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Demo run {RunId} started with {Items} items")]
    private static partial void LogStarted(ILogger logger, int runId, int items);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Demo run {RunId} ended: {State}")]
    private static partial void LogEnded(ILogger logger, int runId, string state);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Demo run {RunId} failed")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, int runId);
}
