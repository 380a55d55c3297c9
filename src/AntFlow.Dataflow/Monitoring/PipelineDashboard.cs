using AntFlow.Dataflow.Diagnostics;
using AntFlow.Dataflow.Execution;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AntFlow.Dataflow;

/// <summary>
/// A small helper for building your own dashboard: it reads a pipeline's state on demand, calls a callback with a
/// fresh <see cref="DashboardSnapshot"/> at a fixed interval once started, and forwards status events from a
/// <see cref="StatusTracker"/> to handlers you add.
/// </summary>
/// <remarks>
/// The periodic updates run on a <see cref="PeriodicTimer"/> created from the given <see cref="TimeProvider"/>, one
/// after the other (never two at once); when one is slow, the ticks missed in the meantime are merged into one.
/// Disposing stops the updates, sends one final update (if the dashboard was started) and removes the handlers
/// added with <see cref="Subscribe"/>. Exceptions from the callback are logged and ignored.
/// </remarks>
public sealed class PipelineDashboard : IAsyncDisposable
{
    private static readonly TimeSpan DefaultUpdateInterval = TimeSpan.FromSeconds(1);

    private readonly IPipelineMonitor _pipeline;
    private readonly StatusTracker? _tracker;
    private readonly Action<DashboardSnapshot>? _onUpdate;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    // _gate is never held while calling the pipeline, the callback or a tracker subscription's Dispose.
    private readonly Lock _gate = new();
    private readonly List<(Func<StatusEvent, Task> Handler, IDisposable Subscription)> _subscriptions = []; // protected by _gate
    private PeriodicTimer? _timer;   // protected by _gate
    private Task? _loop;             // protected by _gate
    private Task? _disposeTask;      // protected by _gate

    /// <summary>Creates a dashboard over a pipeline. Call <see cref="Start"/> to begin the periodic updates.</summary>
    /// <param name="pipeline">The pipeline to watch.</param>
    /// <param name="tracker">The tracker the pipeline reports to, needed only for <see cref="Subscribe"/>; may be <see langword="null"/>.</param>
    /// <param name="onUpdate">Called with a fresh snapshot at every interval after <see cref="Start"/>, and once more on dispose; may be <see langword="null"/>.</param>
    /// <param name="updateInterval">The time between updates; one second when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock for the updates; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Logs exceptions thrown by <paramref name="onUpdate"/>; nothing is logged when <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="updateInterval"/> is shorter than one millisecond, or longer than about 49.7 days.</exception>
    public PipelineDashboard(
        IPipelineMonitor pipeline,
        StatusTracker? tracker = null,
        Action<DashboardSnapshot>? onUpdate = null,
        TimeSpan? updateInterval = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        TimeSpan interval = updateInterval ?? DefaultUpdateInterval;
        TimerLimits.ThrowIfInvalidPeriod(interval, nameof(updateInterval));

        _pipeline = pipeline;
        _tracker = tracker;
        _onUpdate = onUpdate;
        UpdateInterval = interval;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = loggerFactory is not null ? QuietLogger.Wrap(loggerFactory.CreateLogger<PipelineDashboard>()) : NullLogger<PipelineDashboard>.Instance;
    }

    /// <summary>Gets the time between periodic updates.</summary>
    public TimeSpan UpdateInterval { get; }

    /// <summary>Starts calling the update callback every <see cref="UpdateInterval"/>, until the dashboard is disposed.</summary>
    /// <exception cref="InvalidOperationException">The dashboard has already been started.</exception>
    /// <exception cref="ObjectDisposedException">The dashboard has been disposed.</exception>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
            if (_timer is not null)
            {
                throw new InvalidOperationException("The dashboard has already been started.");
            }

            _timer = new PeriodicTimer(UpdateInterval, _timeProvider);
            _loop = RunAsync(_timer);
        }
    }

    /// <summary>Reads the pipeline's worker states, metrics, counts and errors at one moment.</summary>
    /// <returns>The snapshot.</returns>
    public DashboardSnapshot GetSnapshot() => _pipeline.GetDashboardSnapshot();

    /// <summary>Gets the workers running an item now, in stage order and then worker order.</summary>
    /// <returns>The busy workers.</returns>
    public IReadOnlyList<WorkerState> GetActiveWorkers() => GetWorkers(WorkerStatus.Busy);

    /// <summary>Gets the workers waiting for an item now, in stage order and then worker order.</summary>
    /// <returns>The idle workers.</returns>
    public IReadOnlyList<WorkerState> GetIdleWorkers() => GetWorkers(WorkerStatus.Idle);

    /// <summary>
    /// Gets each worker's success rate: items processed divided by items handled (processed plus failed), from 0 to 1.
    /// A worker that has handled nothing yet has a rate of 0.
    /// </summary>
    /// <returns>The rates, by worker name.</returns>
    public IReadOnlyDictionary<string, double> GetWorkerUtilization()
    {
        IReadOnlyDictionary<string, WorkerMetrics> metrics = _pipeline.GetWorkerMetrics();
        var utilization = new Dictionary<string, double>(metrics.Count, StringComparer.Ordinal);
        foreach (KeyValuePair<string, WorkerMetrics> entry in metrics)
        {
            long handled = entry.Value.ItemsProcessed + entry.Value.ItemsFailed;
            utilization[entry.Key] = handled == 0 ? 0d : (double)entry.Value.ItemsProcessed / handled;
        }

        return utilization;
    }

    /// <summary>Calls <paramref name="handler"/> for every status event the tracker records from now on, until <see cref="Unsubscribe"/> or dispose.</summary>
    /// <param name="handler">The handler; it runs on the tracker's dispatcher (see <see cref="StatusTracker.Subscribe(Func{StatusEvent, Task})"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The dashboard was created without a tracker.</exception>
    /// <exception cref="ObjectDisposedException">The dashboard has been disposed.</exception>
    public void Subscribe(Func<StatusEvent, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (_tracker is null)
        {
            throw new InvalidOperationException("The dashboard was created without a StatusTracker, so there are no status events to subscribe to.");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
            _subscriptions.Add((handler, _tracker.Subscribe(handler)));
        }
    }

    /// <summary>Stops calling a handler added with <see cref="Subscribe"/>. When it was added more than once, the latest addition is removed.</summary>
    /// <param name="handler">The handler to remove.</param>
    /// <returns><see langword="true"/> when the handler was found and removed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is <see langword="null"/>.</exception>
    public bool Unsubscribe(Func<StatusEvent, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        IDisposable subscription;
        lock (_gate)
        {
            int index = _subscriptions.FindLastIndex(s => s.Handler == handler);
            if (index < 0)
            {
                return false;
            }

            subscription = _subscriptions[index].Subscription;
            _subscriptions.RemoveAt(index);
        }

        subscription.Dispose();
        return true;
    }

    /// <summary>Stops the periodic updates, sends one final update if the dashboard was started, and removes the handlers.</summary>
    /// <returns>A task that completes when the final update has been sent.</returns>
    public ValueTask DisposeAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        PeriodicTimer? timer;
        Task? loop;
        IDisposable[] subscriptions;
        lock (_gate)
        {
            if (_disposeTask is not null)
            {
                return new ValueTask(_disposeTask);
            }

            _disposeTask = done.Task;
            timer = _timer;
            loop = _loop;
            subscriptions = [.. _subscriptions.Select(s => s.Subscription)];
            _subscriptions.Clear();
        }

        return new ValueTask(DisposeCoreAsync(timer, loop, subscriptions, done));
    }

    private async Task DisposeCoreAsync(PeriodicTimer? timer, Task? loop, IDisposable[] subscriptions, TaskCompletionSource done)
    {
        try
        {
            foreach (IDisposable subscription in subscriptions)
            {
                subscription.Dispose();
            }

            if (timer is not null && loop is not null)
            {
                // Disposing the timer ends the pending wait, so the loop stops; the final update comes after its last one.
                timer.Dispose();
                await loop.ConfigureAwait(false);
                PublishUpdate();
            }
        }
        finally
        {
            done.TrySetResult();
        }
    }

    private async Task RunAsync(PeriodicTimer timer)
    {
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            PublishUpdate();
        }
    }

    private void PublishUpdate()
    {
        if (_onUpdate is null)
        {
            return;
        }

        DashboardSnapshot snapshot;
        try
        {
            snapshot = GetSnapshot();
        }
        catch (Exception ex)
        {
            TryLog(static (logger, e) => MonitoringLog.DashboardSnapshotFailed(logger, e), ex);
            return;
        }

        try
        {
            _onUpdate(snapshot);
        }
        catch (Exception ex)
        {
            TryLog(static (logger, e) => MonitoringLog.DashboardUpdateFailed(logger, e), ex);
        }
    }

    private void TryLog(Action<ILogger, Exception> log, Exception exception)
    {
        try
        {
            log(_logger, exception);
        }
        catch (Exception)
        {
            // A failing logger must not end the periodic updates.
        }
    }

    private List<WorkerState> GetWorkers(WorkerStatus status)
    {
        // Order by the pipeline's own listing (stage order, then worker index); workers it does not list go last, by name.
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (IReadOnlyList<string> stageWorkers in _pipeline.GetWorkerNames().Values)
        {
            foreach (string name in stageWorkers)
            {
                position.TryAdd(name, position.Count);
            }
        }

        var workers = new List<WorkerState>();
        foreach (WorkerState state in _pipeline.GetWorkerStates().Values)
        {
            if (state.Status == status)
            {
                workers.Add(state);
            }
        }

        workers.Sort((a, b) =>
        {
            int byPosition = position.GetValueOrDefault(a.WorkerName, int.MaxValue).CompareTo(position.GetValueOrDefault(b.WorkerName, int.MaxValue));
            return byPosition != 0 ? byPosition : string.CompareOrdinal(a.WorkerName, b.WorkerName);
        });
        return workers;
    }
}
