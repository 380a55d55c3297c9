using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.Pipelines;

[TestFixture]
public sealed class PipelineMonitoringTests
{
    [Test, CancelAfter(10_000)]
    public async Task Tracker_SuccessfulItem_RecordsQueuedInProgressCompletedPerStage(CancellationToken ct)
    {
        var tracker = new StatusTracker();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("A", (int x) => x + 1)
            .Stage("B", (int x) => x * 2)
            .WithTracker(tracker)
            .Build();

        await pipeline.RunAsync([5], ct);

        IReadOnlyList<StatusEvent> history = tracker.GetHistory(0);
        Assert.That(history.Select(e => (e.Stage, e.Status)), Is.EqualTo(new[]
        {
            ("A", ItemStatus.Queued), ("A", ItemStatus.InProgress), ("A", ItemStatus.Completed),
            ("B", ItemStatus.Queued), ("B", ItemStatus.InProgress), ("B", ItemStatus.Completed),
        }));
        Assert.That(history[1].Worker, Is.EqualTo("A-W0"));
        Assert.That(tracker.GetStatus(0L)!.Status, Is.EqualTo(ItemStatus.Completed));
    }

    [Test, CancelAfter(10_000)]
    public async Task Tracker_PerTaskRetryThenFailure_RecordsRetryingWithAttemptAndFailedWithError(CancellationToken ct)
    {
        var tracker = new StatusTracker();
        var taskEvents = new ConcurrentQueue<TaskEvent>();
        using IDisposable subscription = tracker.Subscribe((TaskEvent e) =>
        {
            taskEvents.Enqueue(e);
            return Task.CompletedTask;
        });
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", s => s.Task("flaky", (int x) => x == 0 ? throw new TimeoutException("slow") : x)
                .Retry(RetryMode.PerTask, attempts: 2, delay: TimeSpan.Zero))
            .WithTracker(tracker)
            .Build();

        await pipeline.RunAsync([0], ct);
        await tracker.FlushAsync(ct);

        IReadOnlyList<StatusEvent> history = tracker.GetHistory(0);
        Assert.That(history.Select(e => e.Status), Is.EqualTo(new[] { ItemStatus.Queued, ItemStatus.InProgress, ItemStatus.Retrying, ItemStatus.Failed }));
        Assert.That(history[2].Metadata["attempt"], Is.EqualTo(2));
        Assert.That(history[3].Metadata["errorType"], Is.EqualTo("TimeoutException"));
        Assert.That(history[3].Metadata["error"], Is.EqualTo("slow"));
        ErrorSummary summary = tracker.GetErrorSummary();
        Assert.That(summary.TotalFailed, Is.EqualTo(1));
        Assert.That(summary.FailedItems[0].Attempts, Is.EqualTo(2));
        Assert.That(taskEvents.Select(e => e.EventType), Is.EqualTo(new[] { TaskEventType.Start, TaskEventType.Retry, TaskEventType.Start, TaskEventType.Fail }));
        Assert.That(taskEvents.All(e => e.TaskName == "flaky" && e.Worker == "Work-W0"), Is.True);
    }

    [Test, CancelAfter(10_000)]
    public async Task WorkerStates_WhileTasksBlocked_ShowItemTaskAndStatusText(CancellationToken ct)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inside = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Poll", s => s.Task("poll", async (int x, CancellationToken token) =>
            {
                await Task.Yield();
                inside.TrySetResult(WorkerContext.SetTaskStatus("polling batch 3/10"));
                await gate.Task.WaitAsync(token);
                return x;
            }).Workers(2))
            .WithTimeProvider(time)
            .Build();

        Task run = pipeline.RunAsync([42], ct);
        Assert.That(await inside.Task.WaitAsync(ct), Is.True);

        WorkerState busy = pipeline.GetWorkerStates().Values.Single(w => w.Status == WorkerStatus.Busy);
        Assert.That(busy.CurrentItemId, Is.EqualTo(0L));
        Assert.That(busy.CurrentTask, Is.EqualTo("polling batch 3/10"));
        Assert.That(busy.ProcessingSince, Is.EqualTo(time.GetUtcNow()));
        Assert.That(busy.WorkerName, Does.StartWith("Poll-W"));
        PipelineStats stats = pipeline.GetStats();
        Assert.That(stats.ItemsInFlight, Is.EqualTo(1));
        Assert.That(stats.StageStats["Poll"].InProgressItems, Is.EqualTo(1));

        time.Advance(TimeSpan.FromSeconds(3));
        gate.SetResult();
        await run;

        WorkerMetrics metrics = pipeline.GetWorkerMetrics()[busy.WorkerName];
        Assert.That(metrics.ItemsProcessed, Is.EqualTo(1));
        Assert.That(metrics.TotalProcessingTime, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(pipeline.GetWorkerStates().Values.All(w => w.Status == WorkerStatus.Idle), Is.True);
    }

    [Test]
    public void SetTaskStatus_OutsideAWorker_ReturnsFalse()
    {
        Assert.That(WorkerContext.SetTaskStatus("nothing"), Is.False);
    }

    [Test, CancelAfter(10_000)]
    public async Task Stats_MetricsSumsEqualResults(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("A", (int x) => x % 10 == 0 ? throw new IOException() : x, workers: 3)
            .Stage("B", (int x) => x, workers: 2)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 100), ct);

        DashboardSnapshot snapshot = pipeline.GetDashboardSnapshot();
        Assert.That(snapshot.PipelineStats.ItemsProcessed, Is.EqualTo(results.Count(r => r.IsSuccess)));
        Assert.That(snapshot.PipelineStats.ItemsFailed, Is.EqualTo(10));
        Assert.That(snapshot.WorkerMetrics.Values.Where(m => m.Stage == "A").Sum(m => m.ItemsFailed), Is.EqualTo(10));
        Assert.That(snapshot.WorkerMetrics.Values.Where(m => m.Stage == "B").Sum(m => m.ItemsProcessed), Is.EqualTo(90));
        Assert.That(snapshot.ErrorSummary.ErrorsByType["IOException"], Is.EqualTo(10));
        Assert.That(snapshot.ErrorSummary.ErrorsByStage["A"], Is.EqualTo(10));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_WithDisplay_DrivesStartUpdatesAndFinish(CancellationToken ct)
    {
        var display = new RecordingDisplay();
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("A", (int x) => x).Build();

        await pipeline.RunAsync(Enumerable.Range(0, 10).ToList(), new RunOptions { Display = display, UpdateInterval = TimeSpan.FromMilliseconds(10) }, ct);

        Assert.That(display.TotalItems, Is.EqualTo(10));
        Assert.That(display.Finished!.PipelineStats.ItemsProcessed, Is.EqualTo(10));
    }

    private sealed class RecordingDisplay : IPipelineDisplay
    {
        public int? TotalItems { get; private set; }

        public DashboardSnapshot? Finished { get; private set; }

        public void OnStart(IPipelineMonitor pipeline, int? totalItems) => TotalItems = totalItems;

        public void OnUpdate(DashboardSnapshot snapshot) => throw new InvalidOperationException("a broken display never stops the run");

        public void OnFinish(DashboardSnapshot finalSnapshot) => Finished = finalSnapshot;
    }
}
