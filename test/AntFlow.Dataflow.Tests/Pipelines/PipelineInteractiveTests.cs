using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow.Tests.Pipelines;

[TestFixture]
public sealed class PipelineInteractiveTests
{
    [Test, CancelAfter(10_000)]
    public async Task FeedAsync_ThenComplete_CollectsResultsInInputOrder(CancellationToken ct)
    {
        await using Pipeline<int, string> pipeline = Pipeline.Create<int>()
            .Stage("Square", (int x) => x * x, workers: 2)
            .Stage("Text", (int x) => $"#{x}", workers: 2)
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync([1, 2, 3], cancellationToken: ct);
        await pipeline.FeedAsync(AsyncRange(4, 2), ct);
        await pipeline.CompleteAsync();

        Assert.That(pipeline.Results.Select(r => r.Value), Is.EqualTo(new[] { "#1", "#4", "#9", "#16", "#25" }));
    }

    [Test, CancelAfter(10_000)]
    public async Task FeedAsync_TargetStage_SkipsEarlierStages(CancellationToken ct)
    {
        await using Pipeline<int, string> pipeline = Pipeline.Create<int>()
            .Stage("Fetch", (int x) => $"page{x}")
            .Stage("Process", (string s) => s.ToUpperInvariant())
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync([1], cancellationToken: ct);
        await pipeline.FeedAsync<string>(["injected"], targetStage: "Process", cancellationToken: ct);
        await pipeline.CompleteAsync();

        Assert.That(pipeline.Results.Select(r => r.Value), Is.EquivalentTo(new[] { "PAGE1", "INJECTED" }));
    }

    [Test]
    public async Task FeedAsync_TargetStageUnknownOrWrongType_ThrowsArgumentException()
    {
        await using Pipeline<int, string> pipeline = Pipeline.Create<int>()
            .Stage("Fetch", (int x) => $"page{x}")
            .Stage("Process", (string s) => s)
            .Build();
        pipeline.Start();

        var unknown = Assert.ThrowsAsync<ArgumentException>(() => pipeline.FeedAsync<string>(["x"], targetStage: "Nope"));
        var wrongType = Assert.ThrowsAsync<ArgumentException>(() => pipeline.FeedAsync<int>([1], targetStage: "Process"));

        Assert.That(unknown!.Message, Does.Contain("no stage named 'Nope'").And.Contain("'Fetch', 'Process'"));
        Assert.That(wrongType!.Message, Does.Contain("Stage 'Process' takes String items, not Int32"));
    }

    [Test]
    public async Task Misuse_GetsClearExceptions()
    {
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("A", (int x) => x).Build();

        Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FeedAsync([1]));
        pipeline.Start();
        Assert.Throws<InvalidOperationException>(() => pipeline.Start());
        Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.RunAsync([1]));
        await pipeline.CompleteAsync();
        Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FeedAsync([1]));
    }

    [Test, CancelAfter(10_000)]
    public async Task ShutdownAsync_CancelsRunningAndReportsQueuedAsCancelled(CancellationToken ct)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Hang", s => s.Task("hang", async (int x, CancellationToken token) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, token);
                return x;
            }).Workers(2).QueueCapacity(100))
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync(Enumerable.Range(0, 50), cancellationToken: ct);
        await started.Task.WaitAsync(ct);
        await pipeline.ShutdownAsync();

        IReadOnlyList<PipelineResult<int>> results = pipeline.Results;
        Assert.That(results, Has.Count.EqualTo(50));
        Assert.That(results.All(r => !r.IsSuccess && r.Status == ItemStatus.Cancelled && r.Error is OperationCanceledException), Is.True);
    }

    [Test, CancelAfter(10_000)]
    public async Task FeedAsync_Priority_UrgentItemOvertakesBacklog(CancellationToken ct)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new List<int>();
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("One", s => s.Task("one", async (int x, CancellationToken token) =>
            {
                if (x == 0)
                {
                    await gate.Task.WaitAsync(token);
                }

                lock (order)
                {
                    order.Add(x);
                }

                return x;
            }).Workers(1).QueueCapacity(1000))
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync(Enumerable.Range(0, 500), cancellationToken: ct);
        await pipeline.FeedAsync([-1], priority: 0, cancellationToken: ct);
        gate.SetResult();
        await pipeline.CompleteAsync();

        // Item 0 was running; at most one more (the worker's) was taken before the urgent item.
        Assert.That(order.IndexOf(-1), Is.LessThanOrEqualTo(2));
    }

    [Test, CancelAfter(30_000)]
    public async Task FeedAsync_UrgentBehind100kBacklog_StartsOnTheFirstWorkerToFreeUp(CancellationToken ct)
    {
        // What the stage promises is which item a freed worker takes next, so the test frees one worker at a time.
        // Opening the gate for every worker at once would measure thread scheduling instead: each item is handed to
        // a worker on its own thread, and a thread descheduled between taking the urgent item and running it lets
        // the other workers run hundreds of instant items first (seen on a loaded machine).
        const int workers = 4;
        const int backlog = 100_000;
        var startedItems = new BufferBlock<int>();
        using var release = new SemaphoreSlim(0);
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", s => s.Task("work", async (int x, CancellationToken token) =>
            {
                startedItems.Post(x);
                await release.WaitAsync(token);
                return x;
            }).Workers(workers).QueueCapacity(200_000))
            .CollectResults(false)
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync(Enumerable.Range(0, backlog), cancellationToken: ct);

        // Every worker is busy with a backlog item before the urgent one arrives.
        var firstItems = new List<int>();
        for (int i = 0; i < workers; i++)
        {
            firstItems.Add(await startedItems.ReceiveAsync(ct));
        }

        await pipeline.FeedAsync([-1], priority: 0, cancellationToken: ct);
        release.Release();
        int next = await startedItems.ReceiveAsync(ct);

        release.Release(backlog);
        await pipeline.CompleteAsync().WaitAsync(ct);

        Assert.That(firstItems, Is.EquivalentTo(Enumerable.Range(0, workers)));
        Assert.That(next, Is.EqualTo(-1), "the first worker to free up takes the urgent item, not the next of the backlog");
    }

    [Test, CancelAfter(10_000)]
    public async Task AsBlock_SitsInsideADataflowGraph(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Double", (int x) => x * 2, workers: 3).Build();
        var source = new BufferBlock<int>();
        var collected = new List<int>();
        var sink = new ActionBlock<PipelineResult<int>>(r => collected.Add(r.Value));

        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        source.LinkTo(block, new DataflowLinkOptions { PropagateCompletion = true });
        block.LinkTo(sink, new DataflowLinkOptions { PropagateCompletion = true });
        for (int i = 0; i < 100; i++)
        {
            await source.SendAsync(i, ct);
        }

        source.Complete();
        await sink.Completion.WaitAsync(ct);

        Assert.That(collected.Order(), Is.EqualTo(Enumerable.Range(0, 100).Select(x => x * 2)));
    }

    [Test, CancelAfter(10_000)]
    public async Task AsBlock_Fault_FaultsCompletion(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Id", (int x) => x).Build();
        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();

        block.Fault(new InvalidOperationException("upstream broke"));

        Assert.That(async () => await block.Completion.WaitAsync(ct), Throws.Exception);
        await Task.CompletedTask;
    }

    private static async IAsyncEnumerable<int> AsyncRange(int start, int count)
    {
        for (int i = start; i < start + count; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }
}
