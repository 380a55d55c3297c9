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
            IDisposable subscriptions = Subscribe(tracker);

            // Started here, under the lock, so a Stop that follows at once always finds a running pipeline to shut down.
            pipeline.Start();
            run = new RunInfo(_run.RunId + 1, Running, _items, _time.GetUtcNow(), EndedAt: null, Error: null);
            _run = run;
            _monitor = pipeline;
            _pipeline = pipeline;

            // Feeding goes on in the background; Task.Run keeps it off the lock and off the request.
            _runTask = Task.Run(() => RunAsync(run.RunId, pipeline, tracker, subscriptions));
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

    private async Task RunAsync(int runId, Pipeline<int, string> pipeline, StatusTracker tracker, IDisposable subscriptions)
    {
        string? error = null;
        try
        {
            await pipeline.FeedAsync(Enumerable.Range(0, _items));
            if (IsStopping(runId))
            {
                // StopAsync is shutting the pipeline down; this waits until every worker has let go.
                await pipeline.ShutdownAsync();
            }
            else
            {
                await pipeline.CompleteAsync();
            }
        }
        catch (InvalidOperationException) when (IsStopping(runId))
        {
            // The stop finished the pipeline before feeding began or completion was asked for; make sure it is over.
            await pipeline.ShutdownAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The demo must report, not crash the server: the page shows the message.
            error = ex.Message;
            LogRunFailed(_logger, ex, runId);
            await pipeline.ShutdownAsync();
        }

        // Every event recorded during the run reaches the page before the run is reported as over.
        await tracker.FlushAsync();
        subscriptions.Dispose();
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

    /// <summary>
    /// The page gets every item and task event through the tracker's subscribers. The handlers only copy the event into
    /// the feed, so they never hold the pipeline back.
    /// </summary>
    private CompositeDisposable Subscribe(StatusTracker tracker) => new(
        tracker.Subscribe((StatusEvent e) =>
        {
            _feed.Add(ActivityFeed.FromStatus(e));
            return Task.CompletedTask;
        }),
        tracker.Subscribe((TaskEvent e) =>
        {
            _feed.Add(ActivityFeed.FromTask(e));
            return Task.CompletedTask;
        }));

    private bool IsStopping(int runId)
    {
        lock (_lock)
        {
            return _run.RunId == runId && _run.State == Stopping;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Demo run {RunId} started with {Items} items")]
    private static partial void LogStarted(ILogger logger, int runId, int items);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Demo run {RunId} ended: {State}")]
    private static partial void LogEnded(ILogger logger, int runId, string state);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Demo run {RunId} failed")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, int runId);

    /// <summary>Disposes both subscriptions together.</summary>
    private sealed class CompositeDisposable(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
