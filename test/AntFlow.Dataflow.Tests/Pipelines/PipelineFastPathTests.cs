using System.Collections.Concurrent;
using System.Diagnostics;

namespace AntFlow.Dataflow.Tests.Pipelines;

/// <summary>
/// The stage fast path (items whose tasks complete synchronously run without an async state machine) and the worker
/// context it sets up: outcomes must be those of the full path, and nothing an item's run sets may be seen outside it.
/// </summary>
[TestFixture]
public sealed class PipelineFastPathTests
{
    private static readonly AsyncLocal<string?> Ambient = new();

    // ---- Worker context: what code sees as "the current worker" ----

    [Test, CancelAfter(10_000)]
    public async Task WorkerName_SyncTaskCompletesWhatAnotherStageAwaits_ThatStageStillSeesItsOwnWorker(CancellationToken ct)
    {
        // The Waiter's continuation is registered from inside its task, so it runs in that task's context; the
        // Opener's synchronous task completes it inline, on the Opener's thread. The continuation belongs to the
        // Waiter's item and must see a Waiter worker, never the Opener's.
        var gate = new TaskCompletionSource(); // continuations run inline, on the thread that opens the gate
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Pipeline<int, string?> pipeline = Pipeline.Create<int>()
            .Stage("Opener", (int x) =>
            {
                if (x == 1)
                {
                    gate.TrySetResult();
                }

                return x;
            })
            .Stage("Waiter", (int x, CancellationToken token) =>
            {
                if (x != 0)
                {
                    return Task.FromResult(WorkerContext.WorkerName);
                }

                Task<string?> name = gate.Task.ContinueWith(
                    static _ => WorkerContext.WorkerName, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                waiting.TrySetResult();
                return name;
            }, workers: 2)
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync([0], cancellationToken: ct);
        await waiting.Task.WaitAsync(ct);
        await pipeline.FeedAsync([1], cancellationToken: ct);
        await pipeline.CompleteAsync().WaitAsync(ct);

        IReadOnlyList<PipelineResult<string?>> results = pipeline.Results;
        Assert.That(results, Has.Count.EqualTo(2));
        Assert.That(results.Select(r => r.Value), Is.All.StartWith("Waiter-W"));
    }

    [Test, CancelAfter(10_000)]
    public async Task WorkerName_CodeOutsideThePipelineResumedInlineBySyncTask_SeesNoWorker(CancellationToken ct)
    {
        // Code that is not part of any task (here the caller's continuation) must never see a worker, even when a
        // synchronous task happens to run it inline by completing what it waits for.
        var gate = new TaskCompletionSource();
        Task<string?> outside = gate.Task.ContinueWith(
            static _ => WorkerContext.WorkerName, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Signal", (int x) =>
            {
                gate.TrySetResult();
                return x;
            })
            .Build();

        await pipeline.RunAsync([1], ct);

        Assert.That(await outside.WaitAsync(ct), Is.Null);
    }

    [Test, CancelAfter(10_000)]
    public async Task WorkerName_WorkStartedBySyncTask_SeesTheWorkerThatStartedIt(CancellationToken ct)
    {
        // Work a task starts flows its execution context, so it runs on behalf of the same worker (as it does for
        // asynchronous tasks): a synchronous task's worker must not be a thread-only notion.
        var spawned = new ConcurrentQueue<Task<string?>>();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Spawner", (int x) =>
            {
                spawned.Enqueue(Task.Run(static () => WorkerContext.WorkerName));
                return x;
            })
            .Build();

        await pipeline.RunAsync(Enumerable.Range(0, 3), ct);
        string?[] names = await Task.WhenAll(spawned).WaitAsync(ct);

        Assert.That(names, Has.Length.EqualTo(3));
        Assert.That(names, Is.All.EqualTo("Spawner-W0"));
    }

    [Test, CancelAfter(10_000)]
    public async Task WorkerName_AsyncAndSyncStagesOverManyItems_EachTaskSeesAWorkerOfItsOwnStage(CancellationToken ct)
    {
        // Pins the cached execution context (async stages) and the synchronous scope: many items, several workers,
        // completed and pending tasks mixed; every task must see a worker of its own stage, and none the caller.
        Pipeline<int, string> pipeline = Pipeline.Create<int>()
            .Stage("Sync", (int x) => (x, WorkerContext.WorkerName), workers: 2)
            .Stage("Completed", (ValueTuple<int, string?> v, CancellationToken token) =>
                Task.FromResult((v.Item1, v.Item2, WorkerContext.WorkerName)), workers: 3)
            .Stage("Pending", async (ValueTuple<int, string?, string?> v, CancellationToken token) =>
            {
                string? before = WorkerContext.WorkerName;
                if (v.Item1 % 2 == 0)
                {
                    await Task.Yield();
                }

                return $"{v.Item2}|{v.Item3}|{before}|{WorkerContext.WorkerName}";
            }, workers: 2)
            .Build();

        IReadOnlyList<PipelineResult<string>> results = await pipeline.RunAsync(Enumerable.Range(0, 500), ct);

        Assert.That(results, Has.Count.EqualTo(500));
        Assert.That(results.All(r => r.IsSuccess), Is.True);
        foreach (PipelineResult<string> result in results)
        {
            string[] names = result.Value!.Split('|');
            Assert.That(names[0], Does.StartWith("Sync-W"), result.Value);
            Assert.That(names[1], Does.StartWith("Completed-W"), result.Value);
            Assert.That(names[2], Does.StartWith("Pending-W"), result.Value);
            Assert.That(names[3], Is.EqualTo(names[2]), result.Value);
        }

        Assert.That(WorkerContext.WorkerName, Is.Null);
    }

    // ---- Isolation: what one item's run sets on its thread ----

    [Test, CancelAfter(10_000)]
    public async Task AsyncLocal_SetBySyncTask_IsNotSeenByTheNextStage(CancellationToken ct)
    {
        // An item's tasks run inside the stage's worker; ambient values they set (AsyncLocal, culture, activities)
        // must not escape into Dataflow's loops and from there into other stages or other items.
        Pipeline<int, string> pipeline = Pipeline.Create<int>()
            .Stage("Mark", (int x) =>
            {
                Ambient.Value = "set by Mark";
                return x;
            })
            .Stage("Look", (int x) => Ambient.Value ?? "clean")
            .Build();

        IReadOnlyList<PipelineResult<string>> results = await pipeline.RunAsync([1], ct);

        Assert.That(results.Single().Value, Is.EqualTo("clean"));
    }

    [Test, CancelAfter(10_000)]
    [NonParallelizable] // an ActivityListener sees the whole process
    public async Task ItemActivity_TaskCompletesLater_IsNotTheParentOfLaterItems(CancellationToken ct)
    {
        // Each item gets its own activity, a child of whatever was current where the pipeline was run (nothing
        // here). A pending item's activity must not stay current on the Dataflow thread that started it.
        string stage = "FastTrace-" + Guid.NewGuid().ToString("N");
        var parents = new ConcurrentQueue<string?>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "AntFlow.Dataflow",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = activity =>
            {
                if (activity.OperationName == stage)
                {
                    parents.Enqueue(activity.Parent?.OperationName ?? activity.ParentId);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        Activity.Current = null;

        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage(stage, async (int x, CancellationToken token) =>
            {
                await Task.Yield();
                return x;
            })
            .Build();
        await pipeline.RunAsync(Enumerable.Range(0, 10), ct);

        Assert.That(parents, Has.Count.EqualTo(10));
        Assert.That(parents, Is.All.Null);
    }

    // ---- Outcomes of the fast path: exactly once, right counters ----

    [Test, CancelAfter(20_000)]
    public async Task AsBlock_SyncStagesAndSmallFullOutputBlock_EveryItemComesOutOnce(CancellationToken ct)
    {
        // Output capacity is max(queue capacity, 64): with nobody reading, the last stage's workers wait for room
        // holding their items (the fast path's pending hand-over); once reading starts every item comes out once.
        const int count = 400;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Double", s => s.Task("double", (int x) => x * 2).Workers(2).QueueCapacity(4))
            .Stage("Check", s => s.Task("check", (int x) => x % 10 == 4 ? throw new InvalidDataException("bad " + x) : x + 1).Workers(3).QueueCapacity(4))
            .Build();
        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        Task feeding = FeedBlockAsync(block, count, ct);

        // All three Check workers end up waiting on the full output block.
        while (pipeline.GetWorkerStates().Values.Count(w => w.Stage == "Check" && w.Status == WorkerStatus.Busy) < 3)
        {
            await Task.Delay(5, ct);
        }

        var results = new List<PipelineResult<int>>();
        while (await block.OutputAvailableAsync(ct))
        {
            while (block is IReceivableSourceBlock<PipelineResult<int>> source && source.TryReceive(out PipelineResult<int>? result))
            {
                results.Add(result);
            }
        }

        await feeding;
        await block.Completion.WaitAsync(ct);

        Assert.That(results.Select(r => r.SequenceId).Order(), Is.EqualTo(Enumerable.Range(0, count).Select(i => (long)i)));
        Assert.That(results.Where(r => r.IsSuccess).All(r => r.Value == (r.SequenceId * 2) + 1), Is.True);
        Assert.That(results.Count(r => !r.IsSuccess), Is.EqualTo(count / 5));
        Assert.That(results.Where(r => !r.IsSuccess).Select(r => r.FailedStage), Is.All.EqualTo("Check"));
        IReadOnlyDictionary<string, WorkerMetrics> metrics = pipeline.GetWorkerMetrics();
        Assert.That(metrics.Values.Where(m => m.Stage == "Check").Sum(m => m.ItemsProcessed), Is.EqualTo(count - (count / 5)));
        Assert.That(metrics.Values.Where(m => m.Stage == "Check").Sum(m => m.ItemsFailed), Is.EqualTo(count / 5));
        Assert.That(pipeline.GetWorkerStates().Values.All(w => w.Status == WorkerStatus.Idle), Is.True);
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_SyncTaskThrowsInMiddleStage_FailsThoseItemsThereOnceWithTheOriginalError(CancellationToken ct)
    {
        var thrown = new ConcurrentDictionary<int, Exception>();
        Pipeline<int, string> pipeline = Pipeline.Create<int>()
            .Stage("First", (int x) => x + 1000, workers: 2)
            .Stage("Middle", (int x) =>
            {
                if (x % 7 == 3)
                {
                    var error = new InvalidDataException("middle " + x);
                    thrown[x] = error;
                    throw error;
                }

                return x * 2;
            }, workers: 3)
            .Stage("Last", (int x) => $"#{x}", workers: 2)
            .Build();

        IReadOnlyList<PipelineResult<string>> results = await pipeline.RunAsync(Enumerable.Range(0, 700), ct);

        Assert.That(results.Select(r => r.SequenceId), Is.EqualTo(Enumerable.Range(0, 700).Select(i => (long)i)));
        PipelineResult<string>[] failed = results.Where(r => !r.IsSuccess).ToArray();
        Assert.That(failed, Has.Length.EqualTo(thrown.Count).And.Length.EqualTo(100));
        Assert.That(failed.Select(r => r.FailedStage), Is.All.EqualTo("Middle"));
        Assert.That(failed.All(r => r.Status == ItemStatus.Failed && r.Attempts == 1), Is.True);
        Assert.That(failed.All(r => ReferenceEquals(r.Error, thrown[(int)r.SequenceId + 1000])), Is.True);
        Assert.That(results.Where(r => r.IsSuccess).All(r => r.Value == $"#{(r.SequenceId + 1000) * 2}"), Is.True);

        PipelineStats stats = pipeline.GetStats();
        Assert.That(stats.ItemsProcessed, Is.EqualTo(600));
        Assert.That(stats.ItemsFailed, Is.EqualTo(100));
        Assert.That(stats.ItemsInFlight, Is.Zero);
        IReadOnlyDictionary<string, WorkerMetrics> metrics = pipeline.GetWorkerMetrics();
        Assert.That(metrics.Values.Where(m => m.Stage == "Middle").Sum(m => m.ItemsFailed), Is.EqualTo(100));
        Assert.That(metrics.Values.Where(m => m.Stage == "Middle").Sum(m => m.ItemsProcessed), Is.EqualTo(600));
        Assert.That(metrics.Values.Where(m => m.Stage == "Last").Sum(m => m.ItemsProcessed), Is.EqualTo(600));
    }

    [Test, CancelAfter(10_000)]
    public async Task OnFailure_SyncStage_CalledOncePerItemThatFailsForGood(CancellationToken ct)
    {
        // A per-stage retry goes through the same fast path: the first failure re-queues the item, only the last
        // one reaches OnFailure.
        var failures = new ConcurrentQueue<(object Id, Exception Error)>();
        var calls = new ConcurrentDictionary<int, int>();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Flaky", s => s
                .Task("flaky", (int x) =>
                {
                    int call = calls.AddOrUpdate(x, 1, (_, n) => n + 1);
                    return x % 5 == 0 || (x % 5 == 1 && call == 1) ? throw new IOException($"flaky {x} call {call}") : x;
                })
                .Workers(2)
                .Retry(RetryMode.PerStage, attempts: 2, delay: TimeSpan.Zero)
                .OnFailure((id, error) => failures.Enqueue((id, error))))
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 100), ct);

        Assert.That(results, Has.Count.EqualTo(100));
        Assert.That(failures.Select(f => Convert.ToInt64(f.Id)).Order(), Is.EqualTo(Enumerable.Range(0, 20).Select(i => i * 5L)));
        Assert.That(failures.All(f => f.Error is IOException && f.Error.Message.EndsWith("call 2", StringComparison.Ordinal)), Is.True);
        Assert.That(results.Where(r => !r.IsSuccess).Select(r => r.SequenceId), Is.EqualTo(Enumerable.Range(0, 20).Select(i => i * 5L)));
        Assert.That(results.Where(r => r.SequenceId % 5 == 1).All(r => r.IsSuccess && r.Attempts == 2), Is.True);
        Assert.That(results.Where(r => !r.IsSuccess).All(r => r.Attempts == 2), Is.True);
    }

    [Test, CancelAfter(20_000)]
    public async Task StreamAsync_CancelledWhileWorkersWaitOnFullStream_ThrowsAndFreesEveryWorker(CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Inc", (int x) => x + 1, workers: 2)
            .Stage("Out", (int x) => x, workers: 2)
            .Build();

        int read = 0;
        Assert.That(
            async () =>
            {
                await foreach (PipelineResult<int> result in pipeline.StreamAsync(Enumerable.Range(0, 5000), cts.Token))
                {
                    read++;
                    if (read == 1)
                    {
                        // The stream holds 256 results: wait until both last-stage workers hold an item they
                        // cannot hand over, then cancel.
                        while (pipeline.GetWorkerStates().Values.Count(w => w.Stage == "Out" && w.Status == WorkerStatus.Busy) < 2)
                        {
                            await Task.Delay(5, ct);
                        }

                        await cts.CancelAsync();
                    }
                }
            },
            Throws.InstanceOf<OperationCanceledException>());

        Assert.That(read, Is.LessThan(5000));
        Assert.That(pipeline.GetWorkerStates().Values.All(w => w.Status == WorkerStatus.Idle), Is.True);

        // The run is over: the pipeline runs again, every item once.
        IReadOnlyList<PipelineResult<int>> again = await pipeline.RunAsync(Enumerable.Range(0, 50), ct);
        Assert.That(again.Select(r => r.Value), Is.EqualTo(Enumerable.Range(1, 50)));
    }

    [Test, CancelAfter(10_000)]
    public async Task DisposeAsync_AsBlockWorkersWaitOnFullUnreadOutput_Completes(CancellationToken ct)
    {
        // Disposing must let every worker go even when nobody reads the block's output any more: those results
        // can never be delivered.
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Unread", s => s.Task("same", (int x) => x).Workers(2).QueueCapacity(4))
            .Build();
        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        _ = FeedBlockAsync(block, 200, ct);
        while (pipeline.GetWorkerStates().Values.Count(w => w.Status == WorkerStatus.Busy) < 2)
        {
            await Task.Delay(5, ct);
        }

        await pipeline.DisposeAsync().AsTask().WaitAsync(ct);

        Assert.That(pipeline.GetWorkerStates().Values.All(w => w.Status == WorkerStatus.Idle), Is.True);
    }

    [Test, CancelAfter(20_000)]
    public async Task ShutdownAsync_AsBlockWithSlowReader_DeliversEveryAcceptedItemOnce(CancellationToken ct)
    {
        // A stop is not a reason to drop results while someone still reads the output: every item the block
        // accepted comes out once, finished or cancelled.
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Fast", s => s.Task("same", (int x) => x).Workers(2).QueueCapacity(4))
            .Build();
        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        var received = new ConcurrentQueue<PipelineResult<int>>();
        var reader = new ActionBlock<PipelineResult<int>>(
            async result =>
            {
                received.Enqueue(result);
                await Task.Delay(2, ct);
            },
            new ExecutionDataflowBlockOptions { BoundedCapacity = 1 });
        block.LinkTo(reader, new DataflowLinkOptions { PropagateCompletion = true });

        int accepted = 0;
        Task feeding = Task.Run(async () =>
        {
            for (int i = 0; i < 10_000 && !ct.IsCancellationRequested; i++)
            {
                if (!await block.SendAsync(i, ct))
                {
                    break;
                }

                accepted++;
            }
        }, ct);
        while (received.Count < 20)
        {
            await Task.Delay(5, ct);
        }

        await pipeline.ShutdownAsync().WaitAsync(ct);
        await feeding.WaitAsync(ct);
        await reader.Completion.WaitAsync(ct);

        Assert.That(received.Select(r => r.SequenceId).Distinct().Count(), Is.EqualTo(received.Count));
        Assert.That(received, Has.Count.EqualTo(accepted));
        Assert.That(received.Where(r => !r.IsSuccess).Select(r => r.Error), Is.All.InstanceOf<OperationCanceledException>());
    }

    [Test, CancelAfter(10_000)]
    [NonParallelizable] // an ActivityListener sees the whole process
    public async Task ItemActivity_IdWhoseToStringThrows_ItemsStillSucceed(CancellationToken ct)
    {
        // Tracing is diagnostics: a listener or an id that cannot describe itself never changes an outcome.
        string stage = "BadIdTrace-" + Guid.NewGuid().ToString("N");
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "AntFlow.Dataflow",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage(stage, (int x) => x + 1)
            .WithIdSelector(x => new UnprintableId(x))
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 20), ct);

        Assert.That(results.Select(r => r.IsSuccess), Is.All.True);
        Assert.That(results.Select(r => r.Value), Is.EqualTo(Enumerable.Range(1, 20)));
    }

    // ---- Feeding: one linked token per feeding loop ----

    [Test, CancelAfter(10_000)]
    public async Task FeedAsync_CancellableTokenAndRepeatedlyFullQueue_FeedsEveryItem(CancellationToken ct)
    {
        // The feeding loop waits on a full queue many times with the same linked token.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Slow", s => s.Task("slow", async (int x, CancellationToken token) =>
            {
                await Task.Yield();
                return x;
            }).Workers(1).QueueCapacity(1))
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync(Enumerable.Range(0, 200), cancellationToken: cts.Token);
        await pipeline.FeedAsync(AsyncRange(200, 100), cts.Token);
        await pipeline.CompleteAsync().WaitAsync(ct);

        Assert.That(pipeline.Results.Select(r => r.Value), Is.EqualTo(Enumerable.Range(0, 300)));
    }

    [Test, CancelAfter(10_000)]
    public async Task FeedAsync_CancelledWhileWaitingOnFullQueue_EveryFedItemComesOutOnce(CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Held", s => s.Task("held", async (int x, CancellationToken token) =>
            {
                await gate.Task.WaitAsync(token);
                return x;
            }).Workers(1).QueueCapacity(2))
            .Build();

        pipeline.Start();
        Task feeding = pipeline.FeedAsync(Enumerable.Range(0, 50), cancellationToken: cts.Token);
        while (pipeline.GetStats().QueueSizes["Held"] < 2)
        {
            await Task.Delay(5, ct);
        }

        await cts.CancelAsync();
        Assert.That(async () => await feeding, Throws.InstanceOf<OperationCanceledException>());
        gate.SetResult();
        await pipeline.CompleteAsync().WaitAsync(ct);

        IReadOnlyList<PipelineResult<int>> results = pipeline.Results;
        Assert.That(results.Select(r => r.SequenceId), Is.EqualTo(Enumerable.Range(0, results.Count).Select(i => (long)i)));
        Assert.That(results, Has.Count.LessThan(50));
        Assert.That(results.Count(r => r.Status == ItemStatus.Cancelled), Is.EqualTo(1));
        Assert.That(results.Where(r => r.IsSuccess).Select(r => r.Value), Is.EqualTo(Enumerable.Range(0, results.Count - 1)));
    }

    private sealed record UnprintableId(int Value)
    {
        public override string ToString() => throw new InvalidOperationException("no text for this id");
    }

    private static async Task FeedBlockAsync(ITargetBlock<int> block, int count, CancellationToken ct)
    {
        for (int i = 0; i < count; i++)
        {
            await block.SendAsync(i, ct);
        }

        block.Complete();
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
