using System.Collections.Concurrent;

namespace AntFlow.Dataflow.Tests.Monitoring;

[TestFixture]
public sealed class WorkerContextTests
{
    [Test, CancelAfter(10_000)]
    public async Task WorkerName_InSynchronousTask_IsAWorkerOfTheStage(CancellationToken ct)
    {
        var seen = new ConcurrentBag<string?>();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Sync", (int x) =>
            {
                seen.Add(WorkerContext.WorkerName);
                return x;
            }, workers: 3)
            .Build();

        await pipeline.RunAsync(Enumerable.Range(0, 500), ct);

        Assert.That(seen, Has.Count.EqualTo(500));
        Assert.That(seen, Is.All.AnyOf("Sync-W0", "Sync-W1", "Sync-W2"));
    }

    [Test, CancelAfter(10_000)]
    public async Task WorkerName_AfterAwaitInAsyncTask_IsStillTheWorkerThatStartedTheItem(CancellationToken ct)
    {
        var mismatches = new ConcurrentBag<(string? Before, string? After)>();
        var seen = new ConcurrentBag<string?>();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Async", async (int x) =>
            {
                string? before = WorkerContext.WorkerName;
                await Task.Yield();
                string? after = WorkerContext.WorkerName;
                seen.Add(after);
                if (before != after)
                {
                    mismatches.Add((before, after));
                }

                return x;
            }, workers: 4)
            .Build();

        await pipeline.RunAsync(Enumerable.Range(0, 500), ct);

        Assert.That(mismatches, Is.Empty);
        Assert.That(seen, Has.Count.EqualTo(500));
        Assert.That(seen, Is.All.AnyOf("Async-W0", "Async-W1", "Async-W2", "Async-W3"));
    }

    [Test, CancelAfter(10_000)]
    public async Task WorkerName_ItemsRunningAtTheSameTime_SeeDifferentWorkers(CancellationToken ct)
    {
        // Items that completed synchronously before leave a cached context behind on each worker; items blocked at
        // the same time must still each see their own worker after the await.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int started = 0;
        var namesAfterGate = new ConcurrentBag<string?>();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Gated", (int x) =>
            {
                if (x < 100)
                {
                    return Task.FromResult(x);
                }

                return WaitAtGateAsync(x);
            }, workers: 3)
            .Build();

        async Task<int> WaitAtGateAsync(int x)
        {
            if (Interlocked.Increment(ref started) == 3)
            {
                allStarted.SetResult();
            }

            await gate.Task.WaitAsync(ct);
            namesAfterGate.Add(WorkerContext.WorkerName);
            return x;
        }

        Task<IReadOnlyList<PipelineResult<int>>> run = pipeline.RunAsync(Enumerable.Range(0, 103), ct);
        await allStarted.Task.WaitAsync(ct);
        gate.SetResult();
        await run;

        Assert.That(namesAfterGate, Is.EquivalentTo(new[] { "Gated-W0", "Gated-W1", "Gated-W2" }));
    }

    [Test, CancelAfter(10_000)]
    public async Task WorkerName_InStageMixingSyncAndAsyncTasks_IsSeenByBoth(CancellationToken ct)
    {
        var seen = new ConcurrentBag<(string Task, string? Worker)>();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Mixed", stage => stage
                .Task("sync", (int x) =>
                {
                    seen.Add(("sync", WorkerContext.WorkerName));
                    return x;
                })
                .Task("async", async (int x) =>
                {
                    await Task.Yield();
                    seen.Add(("async", WorkerContext.WorkerName));
                    return x;
                })
                .Workers(2))
            .Build();

        await pipeline.RunAsync(Enumerable.Range(0, 50), ct);

        Assert.That(seen.Count(s => s.Task == "sync"), Is.EqualTo(50));
        Assert.That(seen.Count(s => s.Task == "async"), Is.EqualTo(50));
        Assert.That(seen.Select(s => s.Worker), Is.All.AnyOf("Mixed-W0", "Mixed-W1"));
    }

    [Test, CancelAfter(10_000)]
    public async Task WorkerName_OutsideTasks_IsNullWhileAndAfterThePipelineRuns(CancellationToken ct)
    {
        var outside = new List<string?>();
        Pipeline<int, int> syncPipeline = Pipeline.Create<int>().Stage("S", (int x) => x, workers: 2).Build();
        Pipeline<int, int> asyncPipeline = Pipeline.Create<int>().Stage("A", (int x) => Task.FromResult(x), workers: 2).Build();

        await foreach (PipelineResult<int> result in syncPipeline.StreamAsync(Enumerable.Range(0, 200), ct))
        {
            outside.Add(WorkerContext.WorkerName);
        }

        await foreach (PipelineResult<int> result in asyncPipeline.StreamAsync(Enumerable.Range(0, 200), ct))
        {
            outside.Add(WorkerContext.WorkerName);
        }

        outside.Add(WorkerContext.WorkerName);
        Assert.That(outside, Has.Count.EqualTo(401));
        Assert.That(outside, Is.All.Null);
        Assert.That(WorkerContext.SetTaskStatus("outside"), Is.False);
    }

    [Test, CancelAfter(10_000)]
    public async Task SetTaskStatus_InSynchronousTask_IsAccepted(CancellationToken ct)
    {
        var accepted = new ConcurrentBag<bool>();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Sync", (int x) =>
            {
                accepted.Add(WorkerContext.SetTaskStatus($"item {x}"));
                return x;
            }, workers: 2)
            .Build();

        await pipeline.RunAsync(Enumerable.Range(0, 20), ct);

        Assert.That(accepted, Has.Count.EqualTo(20));
        Assert.That(accepted, Is.All.True);
    }

    [Test]
    public void SetTaskStatus_NullStatus_Throws()
    {
        Assert.That(() => WorkerContext.SetTaskStatus(null!), Throws.ArgumentNullException);
    }
}
