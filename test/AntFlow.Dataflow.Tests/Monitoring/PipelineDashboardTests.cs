using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.Monitoring;

[TestFixture]
public sealed class PipelineDashboardTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    // ---- construction -------------------------------------------------------------------------------------------

    [Test]
    public void Ctor_NullPipeline_ThrowsArgumentNullException()
    {
        Assert.That(() => new PipelineDashboard(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("pipeline"));
    }

    [TestCase(0)]
    [TestCase(-1_000)]
    public void Ctor_NonPositiveInterval_ThrowsArgumentOutOfRangeException(int milliseconds)
    {
        Assert.That(
            () => new PipelineDashboard(new FakePipelineMonitor(), updateInterval: TimeSpan.FromMilliseconds(milliseconds)),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("updateInterval"));
    }

    [Test]
    public void Ctor_IntervalBeyondTimerRange_ThrowsArgumentOutOfRangeException()
    {
        Assert.That(
            () => new PipelineDashboard(new FakePipelineMonitor(), updateInterval: TimeSpan.FromDays(60)),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("updateInterval"));
    }

    [Test]
    public void Ctor_NoInterval_DefaultsToOneSecond()
    {
        var dashboard = new PipelineDashboard(new FakePipelineMonitor());

        Assert.That(dashboard.UpdateInterval, Is.EqualTo(TimeSpan.FromSeconds(1)));
    }

    // ---- periodic updates ---------------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task Start_TimeAdvancesByInterval_OneUpdatePerIntervalAndOneOnDispose(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider();
        var monitor = new FakePipelineMonitor();
        var updates = new UpdateRecorder();
        var dashboard = new PipelineDashboard(monitor, onUpdate: updates.OnUpdate, updateInterval: Interval, timeProvider: time);

        dashboard.Start();
        time.Advance(Interval);
        await updates.WaitForAsync(1, cancellationToken);
        time.Advance(Interval);
        await updates.WaitForAsync(2, cancellationToken);
        time.Advance(Interval / 2); // not a full interval: no update
        await dashboard.DisposeAsync();

        Assert.Multiple(() =>
        {
            Assert.That(updates.Snapshots, Has.Count.EqualTo(3));
            Assert.That(updates.Snapshots, Is.EqualTo(monitor.IssuedSnapshots));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Start_NoTimePasses_OnlyTheFinalUpdate(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider();
        var updates = new UpdateRecorder();
        var dashboard = new PipelineDashboard(new FakePipelineMonitor(), onUpdate: updates.OnUpdate, updateInterval: Interval, timeProvider: time);
        dashboard.Start();

        await dashboard.DisposeAsync();
        await dashboard.DisposeAsync(); // a second dispose sends nothing more

        Assert.That(updates.Snapshots, Has.Count.EqualTo(1));
    }

    [Test, CancelAfter(10_000)]
    public async Task DisposeAsync_NeverStarted_NoUpdate(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider();
        var updates = new UpdateRecorder();
        var dashboard = new PipelineDashboard(new FakePipelineMonitor(), onUpdate: updates.OnUpdate, updateInterval: Interval, timeProvider: time);

        time.Advance(Interval * 3);
        await dashboard.DisposeAsync();

        Assert.That(updates.Snapshots, Is.Empty);
    }

    [Test, CancelAfter(10_000)]
    public async Task Start_Twice_ThrowsInvalidOperationException(CancellationToken cancellationToken)
    {
        await using var dashboard = new PipelineDashboard(new FakePipelineMonitor(), timeProvider: new FakeTimeProvider());
        dashboard.Start();

        Assert.That(dashboard.Start, Throws.InvalidOperationException.With.Message.EqualTo("The dashboard has already been started."));
    }

    [Test, CancelAfter(10_000)]
    public async Task Start_AfterDispose_ThrowsObjectDisposedException(CancellationToken cancellationToken)
    {
        var dashboard = new PipelineDashboard(new FakePipelineMonitor(), timeProvider: new FakeTimeProvider());
        await dashboard.DisposeAsync();

        Assert.That(dashboard.Start, Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test, CancelAfter(10_000)]
    public async Task Start_OnUpdateThrows_LoggedAndUpdatesContinue(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider();
        var logger = new ListLogger();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logger));
        var updates = new UpdateRecorder { ThrowOnCall = 1 };
        var dashboard = new PipelineDashboard(new FakePipelineMonitor(), onUpdate: updates.OnUpdate, updateInterval: Interval, timeProvider: time, loggerFactory: loggerFactory);
        dashboard.Start();

        time.Advance(Interval);
        await updates.WaitForAsync(1, cancellationToken);
        time.Advance(Interval);
        await updates.WaitForAsync(2, cancellationToken);
        await dashboard.DisposeAsync();

        ListLogger.LogEntry entry = logger.Entries.Single();
        Assert.Multiple(() =>
        {
            Assert.That(updates.Snapshots, Has.Count.EqualTo(3));
            Assert.That(entry.EventId.Id, Is.EqualTo(310));
            Assert.That(entry.Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(entry.Exception, Is.InstanceOf<InvalidOperationException>());
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Start_SnapshotThrows_LoggedAndThatUpdateSkipped(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider();
        var logger = new ListLogger();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logger));
        var monitor = new FakePipelineMonitor { FailNextSnapshot = true };
        var updates = new UpdateRecorder();
        var dashboard = new PipelineDashboard(monitor, onUpdate: updates.OnUpdate, updateInterval: Interval, timeProvider: time, loggerFactory: loggerFactory);
        dashboard.Start();

        time.Advance(Interval);
        await monitor.SnapshotRequests.WaitAsync(cancellationToken); // this one failed
        time.Advance(Interval);
        await updates.WaitForAsync(1, cancellationToken);
        await dashboard.DisposeAsync();

        Assert.Multiple(() =>
        {
            Assert.That(updates.Snapshots, Has.Count.EqualTo(2));
            Assert.That(logger.Entries.Select(e => e.EventId.Id), Is.EqualTo(new[] { 311 }));
        });
    }

    // ---- queries ------------------------------------------------------------------------------------------------

    [Test]
    public void GetSnapshot_ReturnsThePipelinesSnapshot()
    {
        var monitor = new FakePipelineMonitor();
        var dashboard = new PipelineDashboard(monitor);

        DashboardSnapshot snapshot = dashboard.GetSnapshot();

        Assert.That(snapshot, Is.SameAs(monitor.IssuedSnapshots.Single()));
    }

    [Test]
    public void GetActiveAndIdleWorkers_MixedStates_SplitInStageAndWorkerOrder()
    {
        var monitor = new FakePipelineMonitor();
        monitor.SetWorkers(
            ("Fetch", [("Fetch-W0", WorkerStatus.Idle), ("Fetch-W1", WorkerStatus.Busy), ("Fetch-W2", WorkerStatus.Busy)]),
            ("Save", [("Save-W0", WorkerStatus.Busy), ("Save-W1", WorkerStatus.Idle)]));
        monitor.ShuffleStates(); // the states dictionary comes in no particular order
        var dashboard = new PipelineDashboard(monitor);

        IReadOnlyList<WorkerState> active = dashboard.GetActiveWorkers();
        IReadOnlyList<WorkerState> idle = dashboard.GetIdleWorkers();

        Assert.Multiple(() =>
        {
            Assert.That(active.Select(w => w.WorkerName), Is.EqualTo(new[] { "Fetch-W1", "Fetch-W2", "Save-W0" }));
            Assert.That(active.Select(w => w.Status), Is.All.EqualTo(WorkerStatus.Busy));
            Assert.That(active[0].CurrentItemId, Is.EqualTo("item-Fetch-W1"));
            Assert.That(idle.Select(w => w.WorkerName), Is.EqualTo(new[] { "Fetch-W0", "Save-W1" }));
        });
    }

    [Test]
    public void GetActiveWorkers_NoWorkers_Empty()
    {
        var dashboard = new PipelineDashboard(new FakePipelineMonitor());

        Assert.Multiple(() =>
        {
            Assert.That(dashboard.GetActiveWorkers(), Is.Empty);
            Assert.That(dashboard.GetIdleWorkers(), Is.Empty);
        });
    }

    [Test]
    public void GetWorkerUtilization_VariousCounts_SuccessRateOrZeroWhenNothingHandled()
    {
        var monitor = new FakePipelineMonitor();
        monitor.SetMetrics(("Fetch-W0", 3, 1), ("Fetch-W1", 0, 0), ("Fetch-W2", 0, 2), ("Save-W0", 5, 0));
        var dashboard = new PipelineDashboard(monitor);

        IReadOnlyDictionary<string, double> utilization = dashboard.GetWorkerUtilization();

        Assert.That(utilization, Is.EquivalentTo(new Dictionary<string, double>
        {
            ["Fetch-W0"] = 0.75,
            ["Fetch-W1"] = 0,
            ["Fetch-W2"] = 0,
            ["Save-W0"] = 1,
        }));
    }

    // ---- status event handlers ----------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_TrackerRecordsEvents_HandlerCalledUntilUnsubscribed(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        await using var dashboard = new PipelineDashboard(new FakePipelineMonitor(), tracker);
        var received = new ConcurrentQueue<object>();
        Func<StatusEvent, Task> handler = e => { received.Enqueue(e.ItemId); return Task.CompletedTask; };
        dashboard.Subscribe(handler);
        await tracker.RecordAsync(StatusEventFor(1L), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        bool removed = dashboard.Unsubscribe(handler);
        bool removedAgain = dashboard.Unsubscribe(handler);
        await tracker.RecordAsync(StatusEventFor(2L), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(received, Is.EqualTo(new object[] { 1L }));
            Assert.That(removed, Is.True);
            Assert.That(removedAgain, Is.False);
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_SameHandlerTwice_CalledTwiceAndRemovedOneAtATime(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        await using var dashboard = new PipelineDashboard(new FakePipelineMonitor(), tracker);
        var received = new ConcurrentQueue<object>();
        Func<StatusEvent, Task> handler = e => { received.Enqueue(e.ItemId); return Task.CompletedTask; };
        dashboard.Subscribe(handler);
        dashboard.Subscribe(handler);
        await tracker.RecordAsync(StatusEventFor(1L), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        dashboard.Unsubscribe(handler);
        await tracker.RecordAsync(StatusEventFor(2L), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        Assert.That(received, Is.EqualTo(new object[] { 1L, 1L, 2L }));
    }

    [Test, CancelAfter(10_000)]
    public async Task DisposeAsync_HandlersSubscribed_RemovesThem(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        var dashboard = new PipelineDashboard(new FakePipelineMonitor(), tracker);
        var received = new ConcurrentQueue<object>();
        dashboard.Subscribe(e => { received.Enqueue(e.ItemId); return Task.CompletedTask; });

        await dashboard.DisposeAsync();
        await tracker.RecordAsync(StatusEventFor(1L), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(received, Is.Empty);
            Assert.That(() => dashboard.Subscribe(_ => Task.CompletedTask), Throws.InstanceOf<ObjectDisposedException>());
        });
    }

    [Test]
    public void Subscribe_NoTracker_ThrowsInvalidOperationException()
    {
        var dashboard = new PipelineDashboard(new FakePipelineMonitor());

        Assert.That(() => dashboard.Subscribe(_ => Task.CompletedTask), Throws.InvalidOperationException);
    }

    [Test]
    public void SubscribeAndUnsubscribe_NullHandler_ThrowArgumentNullException()
    {
        var dashboard = new PipelineDashboard(new FakePipelineMonitor(), new StatusTracker());

        Assert.Multiple(() =>
        {
            Assert.That(() => dashboard.Subscribe(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("handler"));
            Assert.That(() => dashboard.Unsubscribe(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("handler"));
        });
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static StatusEvent StatusEventFor(object id) =>
        new() { ItemId = id, Stage = "Fetch", Status = ItemStatus.Queued, Timestamp = DateTimeOffset.UnixEpoch };

    /// <summary>Records the snapshots passed to onUpdate and lets a test wait, without polling, for the n-th call.</summary>
    private sealed class UpdateRecorder
    {
        private readonly SemaphoreSlim _calls = new(0);
        private readonly ConcurrentQueue<DashboardSnapshot> _snapshots = new();
        private int _seen;

        public int ThrowOnCall { get; init; }

        public IReadOnlyCollection<DashboardSnapshot> Snapshots => _snapshots;

        public void OnUpdate(DashboardSnapshot snapshot)
        {
            _snapshots.Enqueue(snapshot);
            _calls.Release();
            if (_snapshots.Count == ThrowOnCall)
            {
                throw new InvalidOperationException("display broke");
            }
        }

        public async Task WaitForAsync(int count, CancellationToken cancellationToken)
        {
            while (_seen < count)
            {
                await _calls.WaitAsync(cancellationToken);
                _seen++;
            }
        }
    }

    /// <summary>A hand-written pipeline view: the dashboard only reads from it.</summary>
    private sealed class FakePipelineMonitor : IPipelineMonitor
    {
        private Dictionary<string, WorkerState> _states = [];
        private Dictionary<string, WorkerMetrics> _metrics = [];
        private Dictionary<string, IReadOnlyList<string>> _names = [];

        public ConcurrentQueue<DashboardSnapshot> IssuedSnapshots { get; } = new();

        public bool FailNextSnapshot { get; set; }

        /// <summary>Released once per snapshot request, failed or not.</summary>
        public SemaphoreSlim SnapshotRequests { get; } = new(0);

        public void SetWorkers(params (string Stage, (string Name, WorkerStatus Status)[] Workers)[] stages)
        {
            _names = stages.ToDictionary(s => s.Stage, s => (IReadOnlyList<string>)s.Workers.Select(w => w.Name).ToList());
            _states = stages
                .SelectMany(s => s.Workers.Select(w => new WorkerState
                {
                    WorkerName = w.Name,
                    Stage = s.Stage,
                    Status = w.Status,
                    CurrentItemId = w.Status == WorkerStatus.Busy ? $"item-{w.Name}" : null,
                }))
                .ToDictionary(w => w.WorkerName);
        }

        public void ShuffleStates()
        {
            _states = _states.Reverse().ToDictionary(kv => kv.Key, kv => kv.Value);
        }

        public void SetMetrics(params (string Name, long Processed, long Failed)[] workers)
        {
            _metrics = workers.ToDictionary(w => w.Name, w => new WorkerMetrics { WorkerName = w.Name, Stage = w.Name.Split('-')[0], ItemsProcessed = w.Processed, ItemsFailed = w.Failed });
        }

        public IReadOnlyDictionary<string, WorkerState> GetWorkerStates() => _states;

        public IReadOnlyDictionary<string, WorkerMetrics> GetWorkerMetrics() => _metrics;

        public PipelineStats GetStats() => new() { ItemsFed = IssuedSnapshots.Count };

        public DashboardSnapshot GetDashboardSnapshot()
        {
            SnapshotRequests.Release();
            if (FailNextSnapshot)
            {
                FailNextSnapshot = false;
                throw new ObjectDisposedException("pipeline");
            }

            var snapshot = new DashboardSnapshot
            {
                WorkerStates = _states,
                WorkerMetrics = _metrics,
                PipelineStats = GetStats(),
                ErrorSummary = ErrorSummary.Empty,
                Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(IssuedSnapshots.Count),
            };
            IssuedSnapshots.Enqueue(snapshot);
            return snapshot;
        }

        public IReadOnlyDictionary<string, IReadOnlyList<string>> GetWorkerNames() => _names;

        public ErrorSummary GetErrorSummary() => ErrorSummary.Empty;
    }
}
