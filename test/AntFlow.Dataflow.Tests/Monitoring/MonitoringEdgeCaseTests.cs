using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.Monitoring;

[TestFixture]
public sealed class MonitoringEdgeCaseTests
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // ---- Snapshot consistency ----

    [Ignore("Known defect: a snapshot reads stats, workers, metrics and errors one after the other, not at one moment.")]
    [Test, CancelAfter(10_000)]
    public async Task GetDashboardSnapshot_ItemFailsWhileSnapshotIsBeingRead_ErrorSummaryAgreesWithStats(CancellationToken ct)
    {
        // The hook runs on the test thread inside GetDashboardSnapshot, after the stats were read (the first clock
        // frequency read is the busy worker's ProcessingSince conversion) and before the error summary is read.
        var time = new HookedTimeProvider(Epoch);
        var started0 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started1 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hold0 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fail1 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var failureSeen = new ManualResetEventSlim();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", async (int x, CancellationToken token) =>
            {
                if (x == 0)
                {
                    started0.TrySetResult();
                    await hold0.Task.WaitAsync(token);
                    return x;
                }

                started1.TrySetResult();
                await fail1.Task.WaitAsync(token);
                throw new InvalidOperationException("boom");
            }, workers: 2)
            .WithTimeProvider(time)
            .Build();

        Task consuming = Task.Run(async () =>
        {
            await foreach (PipelineResult<int> result in pipeline.StreamAsync([0, 1], ct))
            {
                if (!result.IsSuccess)
                {
                    failureSeen.Set();
                }
            }
        }, ct);
        await started0.Task.WaitAsync(ct);
        await started1.Task.WaitAsync(ct);

        HookedTimeProvider.OnFrequencyRead = () =>
        {
            fail1.TrySetResult();
            failureSeen.Wait(ct); // the failure has been counted and reported before the snapshot goes on
        };
        DashboardSnapshot snapshot;
        try
        {
            snapshot = pipeline.GetDashboardSnapshot();
        }
        finally
        {
            HookedTimeProvider.OnFrequencyRead = null;
            hold0.TrySetResult();
            fail1.TrySetResult();
        }

        await consuming.WaitAsync(ct);
        Assert.That(snapshot.ErrorSummary.TotalFailed, Is.EqualTo(snapshot.PipelineStats.ItemsFailed),
            "one snapshot must read the failure count and the error summary at the same moment");
    }

    [Ignore("Known defect: an item waiting in a stage's output for room in the next queue is counted neither as queued nor as running.")]
    [Test, CancelAfter(10_000)]
    public async Task GetStats_ItemWaitingForRoomInTheNextStage_IsQueuedOrRunningSomewhere(CancellationToken ct)
    {
        // A (1 worker) feeds B (1 worker, queue of 1). B holds item 0, item 1 waits in B's queue, item 2 finishes A
        // but finds B's queue full: it is in flight, yet no stage shows it as queued or running.
        var bHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("A", (int x) => x)
            .Stage("B", s => s.Task("hold", async (int x, CancellationToken token) =>
            {
                bStarted.TrySetResult();
                await bHolds.Task.WaitAsync(token);
                return x;
            }).QueueCapacity(1))
            .Build();

        pipeline.Start();
        try
        {
            await pipeline.FeedAsync([0, 1, 2], cancellationToken: ct);
            await bStarted.Task.WaitAsync(ct);

            // Stable state: A has finished all three items and is idle. (Polls a condition; nothing is timed.)
            while (pipeline.GetWorkerMetrics()["A-W0"].ItemsProcessed < 3 || pipeline.GetWorkerStates()["A-W0"].Status != WorkerStatus.Idle
                || pipeline.GetStats().QueueSizes["B"] < 1)
            {
                await Task.Delay(1, ct);
            }

            PipelineStats stats = pipeline.GetStats();
            long queuedOrRunning = stats.StageStats.Values.Sum(s => (long)s.PendingItems + s.InProgressItems);
            Assert.That(stats.ItemsFed, Is.EqualTo(3));
            Assert.That(stats.ItemsInFlight, Is.EqualTo(3));
            Assert.That(stats.ItemsProcessed + stats.ItemsFailed + stats.ItemsCancelled + queuedOrRunning, Is.EqualTo(stats.ItemsFed),
                "processed + failed + cancelled + queued + running must equal fed");
        }
        finally
        {
            bHolds.TrySetResult();
            await pipeline.CompleteAsync().WaitAsync(ct);
        }
    }

    [Ignore("Known defect: while its worker hands it to a per-stage retry, an item counts as both running and waiting to retry.")]
    [Test, CancelAfter(10_000)]
    public async Task GetStats_WorkerHandingItemToPerStageRetry_ItemNotCountedTwice(CancellationToken ct)
    {
        // The retry's backoff timer is created while the failing worker still holds the item: the hook stops the
        // worker there and the stats are read at that moment.
        var time = new HookedTimeProvider(Epoch);
        using var inHook = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        time.OnCreateTimer = () =>
        {
            inHook.Set();
            release.Wait(ct);
        };
        int calls = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Flaky", s => s.Task("flaky", (int x) => Interlocked.Increment(ref calls) == 1 ? throw new TimeoutException("first") : x)
                .Retry(RetryMode.PerStage, attempts: 2, delay: TimeSpan.FromSeconds(10)))
            .WithTimeProvider(time)
            .Build();

        Task<IReadOnlyList<PipelineResult<int>>> run = pipeline.RunAsync([7], ct);
        PipelineStats stats;
        try
        {
            inHook.Wait(ct);
            stats = pipeline.GetStats();
        }
        finally
        {
            time.OnCreateTimer = null;
            release.Set();
        }

        time.Advance(TimeSpan.FromHours(1));
        IReadOnlyList<PipelineResult<int>> results = await run.WaitAsync(ct);
        Assert.That(results.Single().IsSuccess, Is.True);
        StageStats stage = stats.StageStats["Flaky"];
        Assert.That(stats.ItemsInFlight, Is.EqualTo(1));
        Assert.That(stage.PendingItems + stage.InProgressItems, Is.EqualTo(1), "one item must be queued or running, not both");
    }

    // ---- Worker metrics ----

    [Test, CancelAfter(10_000)]
    public async Task GetWorkerMetrics_RunningItemCancelledByShutdown_NotCountedAsFailed(CancellationToken ct)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("S", async (int x, CancellationToken token) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, token);
                return x;
            })
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync([1], cancellationToken: ct);
        await started.Task.WaitAsync(ct);
        await pipeline.ShutdownAsync().WaitAsync(ct);

        PipelineStats stats = pipeline.GetStats();
        WorkerMetrics metrics = pipeline.GetWorkerMetrics()["S-W0"];
        Assert.That(stats.ItemsCancelled, Is.EqualTo(1));
        Assert.That(stats.ItemsFailed, Is.Zero);
        Assert.That(metrics.ItemsFailed, Is.EqualTo(stats.ItemsFailed),
            "WorkerMetrics.ItemsFailed counts final failures and stage retries; a cancelled item is neither");
    }

    [Test, CancelAfter(10_000)]
    public async Task GetWorkerMetrics_PerStageRetryThenSuccess_CountsTheRetriedAttemptAndBothDurations(CancellationToken ct)
    {
        var time = new FakeTimeProvider(Epoch);
        int calls = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("S", s => s.Task("t", (int x) =>
            {
                time.Advance(TimeSpan.FromSeconds(2));
                return Interlocked.Increment(ref calls) == 1 ? throw new TimeoutException("first") : x;
            }).Retry(RetryMode.PerStage, attempts: 2, delay: TimeSpan.Zero))
            .WithTimeProvider(time)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync([1], ct);

        WorkerMetrics metrics = pipeline.GetWorkerMetrics()["S-W0"];
        Assert.That(results.Single().IsSuccess, Is.True);
        Assert.That(metrics.ItemsProcessed, Is.EqualTo(1));
        Assert.That(metrics.ItemsFailed, Is.EqualTo(1));
        Assert.That(metrics.TotalProcessingTime, Is.EqualTo(TimeSpan.FromSeconds(4)));
        Assert.That(metrics.LastActive, Is.EqualTo(Epoch + TimeSpan.FromSeconds(4)));
        Assert.That(pipeline.GetStats().StageStats["S"].FailedItems, Is.Zero);
    }

    // ---- Dashboard helper and displays: update intervals ----

    [Test]
    public void Constructor_SubMillisecondInterval_ThrowsAtOnceNamingTheParameter()
    {
        Pipeline<int, int> monitor = Pipeline.Create<int>().Stage("S", (int x) => x).Build();

        Assert.That(
            () => new PipelineDashboard(monitor, updateInterval: TimeSpan.FromMicroseconds(500)),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("updateInterval"));
    }

    [TestCase(0.5)]
    [TestCase(60 * 24 * 60 * 60 * 1000.0)]
    public void UpdateInterval_OutsideTheTimerRange_ThrowsWhenSet(double milliseconds)
    {
        Assert.That(() => new RunOptions { UpdateInterval = TimeSpan.FromMilliseconds(milliseconds) }, Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    // ---- Diagnostics ----

    [Test, CancelAfter(10_000)]
    public async Task QueueSizeGauge_PipelineBuiltAndDisposedWithoutRunning_NotReported(CancellationToken ct)
    {
        string stage = "Idle" + Guid.NewGuid().ToString("N");
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage(stage, (int x) => x).Build();
        await pipeline.DisposeAsync();

        var reported = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AntFlow.Dataflow" && instrument.Name is "antflow.queue.size" or "antflow.workers.busy")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((instrument, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "stage" && Equals(tag.Value, stage))
                {
                    lock (reported)
                    {
                        reported.Add(instrument.Name);
                    }
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();

        await Task.CompletedTask.WaitAsync(ct);
        Assert.That(reported, Is.Empty, "the gauges show running pipelines only; a pipeline that never ran must not stay registered");
    }

    /// <summary>A fake clock with test hooks: one on the test thread's next frequency read, one on the next timer creation.</summary>
    private sealed class HookedTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
    {
        [ThreadStatic]
        private static Action? _onFrequencyRead;

        private Action? _onCreateTimer;

        public static Action? OnFrequencyRead
        {
            get => _onFrequencyRead;
            set => _onFrequencyRead = value;
        }

        public Action? OnCreateTimer
        {
            get => Volatile.Read(ref _onCreateTimer);
            set => Volatile.Write(ref _onCreateTimer, value);
        }

        public override long TimestampFrequency
        {
            get
            {
                Action? hook = _onFrequencyRead;
                _onFrequencyRead = null;
                hook?.Invoke();
                return base.TimestampFrequency;
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            // The timer exists before the hook runs, so a test may advance the clock as soon as the hook returns.
            ITimer timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime >= TimeSpan.FromSeconds(1))
            {
                // Only the long backoff timer the test waits for; short-lived internal timers pass through.
                Interlocked.Exchange(ref _onCreateTimer, null)?.Invoke();
            }

            return timer;
        }
    }
}
