using System.Threading.Tasks.Dataflow;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.Contract;

/// <summary>The snippets of the public API contract, compiled and run as written (with small stand-in functions).</summary>
[TestFixture]
public sealed class ApiContractTests
{
    [Test, CancelAfter(20_000)]
    public async Task BuildingAndRunning_CompilesAndBehavesAsDocumented(CancellationToken ct)
    {
        var tracker = new StatusTracker(new StatusTrackerOptions { MaxHistoryPerItem = 32, EventBufferCapacity = 10_000 });
        var timeProvider = new FakeTimeProvider();
        var successes = 0;

        Pipeline<int, string> pipeline = Pipeline.Create<int>()
            .Stage("Fetch", async (int x, CancellationToken token) => await FetchAsync(x, token), workers: 10)
            .Stage("Process", stage => stage
                .Task("parse", (string s, CancellationToken token) => ParseAsync(s, token))
                .Task("enrich", (Doc d, CancellationToken token) => EnrichAsync(d, token), concurrencyLimit: 2)
                .Workers(5)
                .QueueCapacity(50)
                .Retry(RetryMode.PerTask, attempts: 3, delay: TimeSpan.FromMilliseconds(200))
                .SkipIf((string s) => s.Length == 0, whenSkipped: s => new Doc(s))
                .OnSuccess((id, value) => { Interlocked.Increment(ref successes); })
                .OnFailure((id, error) => { }))
            .Stage("Save", (Doc d) => SaveAsync(d), workers: 3)
            .WithTracker(tracker)
            .WithLogging(NullLoggerFactory.Instance)
            .WithTimeProvider(timeProvider)
            .WithIdSelector(x => x)
            .CollectResults(true)
            .Build();

        IReadOnlyList<PipelineResult<string>> results = await pipeline.RunAsync(Enumerable.Range(0, 100), ct);

        Assert.That(results, Has.Count.EqualTo(100));
        Assert.That(results[0].Value, Is.EqualTo(string.Empty));
        Assert.That(results[0].Status, Is.EqualTo(ItemStatus.Skipped));
        Assert.That(results[5].Value, Is.EqualTo("saved:page-5!"));
        Assert.That(results[5].Id, Is.EqualTo(5));
        Assert.That(successes, Is.EqualTo(100));
        Assert.That(tracker.GetStatus(0)!.Status, Is.EqualTo(ItemStatus.Completed));

        var sum = await Pipeline.QuickAsync(Enumerable.Range(0, 10), (int x) => x * 2, workers: 5);
        Assert.That(sum.Sum(r => r.Value), Is.EqualTo(90));
        IEnumerable<Func<int, CancellationToken, Task<int>>> tasks = [(x, _) => Task.FromResult(x + 1)];
        var listForm = await Pipeline.QuickAsync<int>(Enumerable.Range(0, 3), tasks, workers: 5, retries: 3);
        Assert.That(listForm.Select(r => r.Value), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test, CancelAfter(20_000)]
    public async Task InteractiveControl_CompilesAndBehavesAsDocumented(CancellationToken ct)
    {
        await using Pipeline<int, string> p = Pipeline.Create<int>()
            .Stage("Fetch", (int x) => $"page-{x}")
            .Stage("Process", (string s) => s.ToUpperInvariant())
            .Build();
        int[] urgent = [99];
        string[] texts = ["hello"];

        p.Start();
        await p.FeedAsync(new[] { 1, 2, 3 });
        await p.FeedAsync(urgent, priority: 0);
        await p.FeedAsync<string>(texts, targetStage: "Process");
        await p.FeedAsync(Ints(2), ct);
        await p.FeedAsync(Ints(1), priority: 5, ct);
        await p.CompleteAsync();
        IReadOnlyList<PipelineResult<string>> all = p.Results;
        await p.ShutdownAsync();

        Assert.That(all, Has.Count.EqualTo(8));
        Assert.That(all.Select(r => r.Value), Does.Contain("HELLO").And.Contain("PAGE-99"));

        Pipeline<int, string> embedded = Pipeline.Create<int>().Stage("S", (int x) => x.ToString(System.Globalization.CultureInfo.InvariantCulture)).Build();
        IPropagatorBlock<int, PipelineResult<string>> block = embedded.AsBlock();
        block.Post(1);
        block.Complete();
        PipelineResult<string> one = await block.ReceiveAsync(ct);
        await block.Completion.WaitAsync(ct);
        Assert.That(one.Value, Is.EqualTo("1"));
    }

    [Test, CancelAfter(20_000)]
    public async Task Monitoring_CompilesAndBehavesAsDocumented(CancellationToken ct)
    {
        var tracker = new StatusTracker(new StatusTrackerOptions { MaxHistoryPerItem = 32, EventBufferCapacity = 10_000 });
        int statusEvents = 0;
        int taskEvents = 0;
        using IDisposable sub = tracker.Subscribe(async (StatusEvent e) => { Interlocked.Increment(ref statusEvents); await Task.CompletedTask; });
        using IDisposable tsub = tracker.Subscribe(async (TaskEvent e) => { Interlocked.Increment(ref taskEvents); await Task.CompletedTask; });
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", (int x) => x == 2 ? throw new InvalidOperationException("two") : x, workers: 2)
            .WithTracker(tracker)
            .Build();

        await pipeline.RunAsync(Enumerable.Range(0, 5), ct);
        await tracker.FlushAsync(ct);

        StatusEvent? s = tracker.GetStatus(0);
        IReadOnlyList<StatusEvent> failed = tracker.GetByStatus(ItemStatus.Failed);
        IReadOnlyDictionary<ItemStatus, int> counts = tracker.GetStats();
        IReadOnlyList<StatusEvent> history = tracker.GetHistory(2);
        ErrorSummary errors = tracker.GetErrorSummary();
        Assert.That(s!.Status, Is.EqualTo(ItemStatus.Completed));
        Assert.That(failed, Has.Count.EqualTo(1));
        Assert.That(counts[ItemStatus.Completed], Is.EqualTo(4));
        Assert.That(history[^1].Metadata["errorType"], Is.EqualTo("InvalidOperationException"));
        Assert.That(errors.TotalFailed, Is.EqualTo(1));
        Assert.That(errors.ErrorsByType["InvalidOperationException"], Is.EqualTo(1));
        Assert.That(errors.ErrorsByStage["Work"], Is.EqualTo(1));
        Assert.That(errors.FailedItems[0].Stage, Is.EqualTo("Work"));
        Assert.That(statusEvents, Is.EqualTo(15));
        Assert.That(taskEvents, Is.EqualTo(10));

        IReadOnlyDictionary<string, WorkerState> states = pipeline.GetWorkerStates();
        IReadOnlyDictionary<string, WorkerMetrics> metrics = pipeline.GetWorkerMetrics();
        PipelineStats stats = pipeline.GetStats();
        DashboardSnapshot snap = pipeline.GetDashboardSnapshot();
        IReadOnlyDictionary<string, IReadOnlyList<string>> names = pipeline.GetWorkerNames();
        ErrorSummary summary = pipeline.GetErrorSummary();
        DateTimeOffset? since = states["Work-W0"].ProcessingSince;
        IReadOnlyDictionary<string, int> queues = stats.QueueSizes;
        TimeSpan total = metrics["Work-W0"].TotalProcessingTime;
        TimeSpan average = metrics["Work-W0"].AverageProcessingTime;
        StageStats stage = stats.StageStats["Work"];
        Assert.That(since, Is.Null);
        Assert.That(queues["Work"], Is.Zero);
        Assert.That(total, Is.GreaterThanOrEqualTo(TimeSpan.Zero));
        Assert.That(average, Is.GreaterThanOrEqualTo(TimeSpan.Zero));
        Assert.That(stage.CompletedItems + stage.FailedItems, Is.EqualTo(5));
        Assert.That(stats.ItemsProcessed, Is.EqualTo(4));
        Assert.That(snap.PipelineStats.ItemsFailed, Is.EqualTo(1));
        Assert.That(names["Work"], Is.EqualTo(new[] { "Work-W0", "Work-W1" }));
        Assert.That(summary.TotalFailed, Is.EqualTo(1));
        Assert.That(WorkerContext.SetTaskStatus("polling batch 3/10"), Is.False);

        IPipelineMonitor monitor = pipeline;
        await using var dashboard = new PipelineDashboard(monitor, tracker, onUpdate: (DashboardSnapshot snapshot) => { }, updateInterval: TimeSpan.FromSeconds(1));
        dashboard.Start();
        DashboardSnapshot now = dashboard.GetSnapshot();
        IReadOnlyList<WorkerState> busy = dashboard.GetActiveWorkers();
        IReadOnlyList<WorkerState> idle = dashboard.GetIdleWorkers();
        IReadOnlyDictionary<string, double> util = dashboard.GetWorkerUtilization();
        Func<StatusEvent, Task> handler = e => Task.CompletedTask;
        dashboard.Subscribe(handler);
        dashboard.Unsubscribe(handler);
        Assert.That(now.WorkerStates, Has.Count.EqualTo(2));
        Assert.That(busy, Is.Empty);
        Assert.That(idle, Has.Count.EqualTo(2));
        Assert.That(util.Values.Sum(), Is.GreaterThan(0));
    }

    [Test]
    public void Exceptions_HaveTheDocumentedHierarchy()
    {
        Assert.That(typeof(ExecutorShutdownException).BaseType, Is.EqualTo(typeof(AntFlowException)));
        Assert.That(typeof(PipelineException).BaseType, Is.EqualTo(typeof(AntFlowException)));
        Assert.That(typeof(StageValidationException).BaseType, Is.EqualTo(typeof(PipelineException)));
        Assert.That(new TaskFailedException("t", new IOException()).TaskName, Is.EqualTo("t"));
    }

    private static async Task<string> FetchAsync(int x, CancellationToken ct)
    {
        await Task.Yield();
        return x == 0 ? string.Empty : $"page-{x}";
    }

    private static Task<Doc> ParseAsync(string s, CancellationToken ct) => Task.FromResult(new Doc(s));

    private static Task<Doc> EnrichAsync(Doc d, CancellationToken ct) => Task.FromResult(d with { Text = d.Text + "!" });

    private static Task<string> SaveAsync(Doc d) => Task.FromResult(d.Text.Length == 0 ? string.Empty : "saved:" + d.Text);

    private static async IAsyncEnumerable<int> Ints(int count)
    {
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return 1000 + i;
        }
    }

    private sealed record Doc(string Text);
}
