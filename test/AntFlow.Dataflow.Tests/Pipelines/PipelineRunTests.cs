using System.Collections.Concurrent;

namespace AntFlow.Dataflow.Tests.Pipelines;

[TestFixture]
public sealed class PipelineRunTests
{
    [Test, CancelAfter(10_000)]
    public async Task RunAsync_ThreeStages_ReturnsOneResultPerItemInInputOrder(CancellationToken ct)
    {
        Pipeline<int, string> pipeline = Pipeline.Create<int>()
            .Stage("Double", (int x) => x * 2, workers: 3)
            .Stage("Delay", async (int x, CancellationToken token) =>
            {
                await Task.Yield();
                return x + 1;
            }, workers: 4)
            .Stage("Format", (int x) => Task.FromResult($"v{x}"), workers: 2)
            .Build();

        IReadOnlyList<PipelineResult<string>> results = await pipeline.RunAsync(Enumerable.Range(0, 500), ct);

        Assert.That(results, Has.Count.EqualTo(500));
        Assert.That(results.Select(r => r.SequenceId), Is.EqualTo(Enumerable.Range(0, 500).Select(i => (long)i)));
        Assert.That(results.Select(r => r.Value), Is.EqualTo(Enumerable.Range(0, 500).Select(i => $"v{(i * 2) + 1}")));
        Assert.That(results.All(r => r.IsSuccess && r.Attempts == 1 && r.Status == ItemStatus.Completed), Is.True);
        Assert.That(results.Select(r => r.Id), Is.EqualTo(Enumerable.Range(0, 500).Select(i => (object)(long)i)));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_RandomDelays_KeepsInputOrder(CancellationToken ct)
    {
        var random = new Random(42);
        int[] delays = Enumerable.Range(0, 200).Select(_ => random.Next(0, 3)).ToArray();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Wait", async (int i, CancellationToken token) =>
            {
                for (int y = 0; y < delays[i]; y++)
                {
                    await Task.Yield();
                }

                return i;
            }, workers: 8)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 200), ct);

        Assert.That(results.Select(r => r.Value), Is.EqualTo(Enumerable.Range(0, 200)));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_FailureInMiddleStage_OthersCompleteAndFailureKeepsOriginalException(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("A", (int x) => x, workers: 2)
            .Stage("B", (int x) => x % 10 == 3 ? throw new InvalidDataException($"bad {x}") : x, workers: 2)
            .Stage("C", (int x) => x * 10, workers: 2)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 100), ct);

        Assert.That(results, Has.Count.EqualTo(100));
        PipelineResult<int>[] failed = results.Where(r => !r.IsSuccess).ToArray();
        Assert.That(failed.Select(r => r.SequenceId), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)((i * 10) + 3))));
        Assert.That(failed.All(r => r.Error is InvalidDataException && r.FailedStage == "B" && r.Status == ItemStatus.Failed), Is.True);
        Assert.That(failed[0].Error!.Message, Is.EqualTo("bad 3"));
        Assert.That(results.Where(r => r.IsSuccess).Select(r => r.Value), Is.EqualTo(Enumerable.Range(0, 100).Where(x => x % 10 != 3).Select(x => x * 10)));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_AsyncTaskThrowsAfterAwait_ReportsFailure(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Throw", async (int x, CancellationToken token) =>
            {
                await Task.Yield();
                if (x == 5)
                {
                    throw new ArgumentException("five");
                }

                return x;
            }, workers: 3)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 10), ct);

        Assert.That(results.Count(r => r.IsSuccess), Is.EqualTo(9));
        Assert.That(results[5].Error, Is.TypeOf<ArgumentException>());
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_CalledTwiceSequentially_RunsBothTimes(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Inc", (int x) => x + 1, workers: 2).Build();

        IReadOnlyList<PipelineResult<int>> first = await pipeline.RunAsync([1, 2, 3], ct);
        IReadOnlyList<PipelineResult<int>> second = await pipeline.RunAsync([10, 20], ct);

        Assert.That(first.Select(r => r.Value), Is.EqualTo(new[] { 2, 3, 4 }));
        Assert.That(second.Select(r => r.Value), Is.EqualTo(new[] { 11, 21 }));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_EmptyInput_ReturnsEmpty(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Inc", (int x) => x + 1).Stage("Dec", (int x) => x - 1).Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync([], ct);

        Assert.That(results, Is.Empty);
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_IdSelector_UsesSelectedIds(CancellationToken ct)
    {
        Pipeline<string, int> pipeline = Pipeline.Create<string>()
            .Stage("Length", (string s) => s.Length)
            .WithIdSelector(s => "id-" + s)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(["a", "bb"], ct);

        Assert.That(results.Select(r => r.Id), Is.EqualTo(new object[] { "id-a", "id-bb" }));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_CollectResultsFalse_ReturnsEmptyButRunsEverything(CancellationToken ct)
    {
        int count = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Count", (int x) => Interlocked.Increment(ref count), workers: 2)
            .CollectResults(false)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 1000), ct);

        Assert.That(results, Is.Empty);
        Assert.That(count, Is.EqualTo(1000));
        Assert.That(pipeline.GetStats().ItemsProcessed, Is.EqualTo(1000));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_SlowItem_DoesNotHoldBackFastItems(CancellationToken ct)
    {
        var slowGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fastDone = new ConcurrentBag<int>();
        var allFastDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", async (int x, CancellationToken token) =>
            {
                if (x == 0)
                {
                    await slowGate.Task.WaitAsync(token);
                }
                else
                {
                    await Task.Yield();
                    fastDone.Add(x);
                    if (fastDone.Count == 100)
                    {
                        allFastDone.TrySetResult();
                    }
                }

                return x;
            }, workers: 4)
            .Build();

        Task<IReadOnlyList<PipelineResult<int>>> run = pipeline.RunAsync(Enumerable.Range(0, 101), ct);

        // All 100 fast items finish while the slow one still holds its worker.
        await allFastDone.Task.WaitAsync(ct);
        Assert.That(run.IsCompleted, Is.False);

        // The 100th fast item signalled from inside its task, so its worker may still be finishing: wait for the
        // fast workers to let go; the slow item keeps exactly one worker busy.
        while (pipeline.GetStats().ItemsProcessed < 100)
        {
            await Task.Yield();
        }

        while (pipeline.GetWorkerStates().Values.Count(w => w.Status == WorkerStatus.Busy) > 1)
        {
            await Task.Yield();
        }

        Assert.That(pipeline.GetWorkerStates().Values.Count(w => w.Status == WorkerStatus.Busy), Is.EqualTo(1));
        Assert.That(run.IsCompleted, Is.False);
        slowGate.SetResult();
        IReadOnlyList<PipelineResult<int>> results = await run;
        Assert.That(results, Has.Count.EqualTo(101));
    }
}
