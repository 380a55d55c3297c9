namespace AntFlow.Dataflow.Tests.Pipelines;

[TestFixture]
public sealed class PipelineStreamTests
{
    [Test, CancelAfter(10_000)]
    public async Task StreamAsync_YieldsEveryItemIncludingFailures(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Check", (int x) => x % 7 == 0 ? throw new InvalidOperationException("seven") : x, workers: 3)
            .Build();

        var results = new List<PipelineResult<int>>();
        await foreach (PipelineResult<int> result in pipeline.StreamAsync(Enumerable.Range(1, 100), ct))
        {
            results.Add(result);
        }

        Assert.That(results.Select(r => r.SequenceId).Order(), Is.EqualTo(Enumerable.Range(0, 100).Select(i => (long)i)));
        Assert.That(results.Count(r => !r.IsSuccess), Is.EqualTo(14));
    }

    [Test, CancelAfter(20_000)]
    public async Task StreamAsync_SlowConsumerOfFastStages_YieldsEveryItemOnce(CancellationToken ct)
    {
        // Fast synchronous stages fill the result stream, so the last stage's workers wait for room while holding
        // their items: each item must still come out exactly once, with its own value.
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Double", (int x) => x * 2, workers: 2)
            .Stage("Check", (int x) => x % 10 == 4 ? throw new InvalidDataException("bad") : x + 1, workers: 3)
            .Build();

        var results = new List<PipelineResult<int>>();
        await foreach (PipelineResult<int> result in pipeline.StreamAsync(Enumerable.Range(0, 400), ct))
        {
            results.Add(result);
            if (results.Count % 3 == 0)
            {
                await Task.Delay(1, ct);
            }
        }

        Assert.That(results.Select(r => r.SequenceId).Order(), Is.EqualTo(Enumerable.Range(0, 400).Select(i => (long)i)));
        Assert.That(results.Where(r => r.IsSuccess).All(r => r.Value == (r.SequenceId * 2) + 1), Is.True);
        Assert.That(results.Count(r => !r.IsSuccess), Is.EqualTo(80));
        Assert.That(results.Where(r => !r.IsSuccess).Select(r => r.FailedStage), Is.All.EqualTo("Check"));
    }

    [Test, CancelAfter(10_000)]
    public async Task StreamAsync_CompletionOrder_FastItemsComeBeforeSlowOne(CancellationToken ct)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", async (int x, CancellationToken token) =>
            {
                if (x == 0)
                {
                    await gate.Task.WaitAsync(token);
                }

                return x;
            }, workers: 2)
            .Build();

        var order = new List<int>();
        await foreach (PipelineResult<int> result in pipeline.StreamAsync(Enumerable.Range(0, 10), ct))
        {
            order.Add(result.Value);
            if (order.Count == 9)
            {
                gate.SetResult();
            }
        }

        Assert.That(order[^1], Is.EqualTo(0));
    }

    [Test, CancelAfter(10_000)]
    public async Task StreamAsync_BreakEarly_StopsPipelineAndReleasesWorkers(CancellationToken ct)
    {
        int started = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", async (int x, CancellationToken token) =>
            {
                Interlocked.Increment(ref started);
                if (x > 5)
                {
                    await Task.Delay(Timeout.Infinite, token);
                }

                return x;
            }, workers: 4)
            .Build();

        int seen = 0;
        await foreach (PipelineResult<int> result in pipeline.StreamAsync(Enumerable.Range(0, 10_000), ct))
        {
            if (++seen == 3)
            {
                break;
            }
        }

        // Breaking out waited for the workers: none is still busy, and the input was not drained.
        Assert.That(pipeline.GetWorkerStates().Values.All(w => w.Status == WorkerStatus.Idle), Is.True);
        Assert.That(started, Is.LessThan(200));

        // The pipeline is free for another run.
        IReadOnlyList<PipelineResult<int>> again = await pipeline.RunAsync([1, 2, 3], ct);
        Assert.That(again.Select(r => r.Value), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_Cancelled_ThrowsAndStopsRunningTasks(CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int cancelledTasks = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Hang", async (int x, CancellationToken token) =>
            {
                running.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, token);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref cancelledTasks);
                    throw;
                }

                return x;
            }, workers: 3)
            .Build();

        Task run = pipeline.RunAsync(Enumerable.Range(0, 100), cts.Token);
        await running.Task.WaitAsync(ct);
        await cts.CancelAsync();

        Assert.That(async () => await run, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(cancelledTasks, Is.EqualTo(3));
        PipelineStats stats = pipeline.GetStats();
        Assert.That(stats.ItemsCancelled + stats.ItemsProcessed + stats.ItemsFailed, Is.EqualTo(stats.ItemsFed));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_LazyInput_IsNotMaterialisedAhead(CancellationToken ct)
    {
        long produced = 0;
        long consumed = 0;
        long maxAhead = 0;
        IEnumerable<int> Input()
        {
            for (int i = 0; i < 20_000; i++)
            {
                long ahead = Interlocked.Increment(ref produced) - Interlocked.Read(ref consumed);
                if (ahead > Interlocked.Read(ref maxAhead))
                {
                    Interlocked.Exchange(ref maxAhead, ahead);
                }

                yield return i;
            }
        }

        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("A", s => s.Task("a", async (int x, CancellationToken token) =>
            {
                await Task.Yield();
                return x;
            }).Workers(2).QueueCapacity(10))
            .Stage("B", s => s.Task("b", (int x) =>
            {
                Interlocked.Increment(ref consumed);
                return x;
            }).Workers(2).QueueCapacity(10))
            .CollectResults(false)
            .Build();

        await pipeline.RunAsync(Input(), ct);

        // Bounded by the queues and the workers of both stages (10 + 2 + 10 + 2, plus what is between blocks).
        Assert.That(Interlocked.Read(ref consumed), Is.EqualTo(20_000));
        Assert.That(Interlocked.Read(ref maxAhead), Is.LessThanOrEqualTo(40));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_InputThrows_RethrowsAfterFedItemsComeOut(CancellationToken ct)
    {
        IEnumerable<int> Broken()
        {
            yield return 1;
            yield return 2;
            throw new IOException("disk gone");
        }

        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("A", (int x) => x).Build();

        Assert.That(async () => await pipeline.RunAsync(Broken(), ct), Throws.TypeOf<IOException>().With.Message.EqualTo("disk gone"));
        Assert.That(pipeline.GetStats().ItemsFed, Is.EqualTo(2));
        await Task.CompletedTask;
    }

    [Test, CancelAfter(10_000)]
    public async Task QuickAsync_SingleTask_RunsWithRetries(CancellationToken ct)
    {
        int calls = 0;
        IReadOnlyList<PipelineResult<int>> results = await Pipeline.QuickAsync(
            Enumerable.Range(0, 10),
            (int x) => x == 3 && Interlocked.Increment(ref calls) < 3 ? throw new TimeoutException() : x * 2,
            workers: 2,
            retries: 3,
            cancellationToken: ct);

        Assert.That(results.Select(r => r.Value), Is.EqualTo(Enumerable.Range(0, 10).Select(x => x * 2)));
        Assert.That(results[3].Attempts, Is.EqualTo(3));
    }

    [Test, CancelAfter(10_000)]
    public async Task QuickAsync_ListOfTasks_MakesOneStagePerTask(CancellationToken ct)
    {
        Func<int, CancellationToken, Task<int>>[] tasks =
        [
            (x, _) => Task.FromResult(x + 1),
            (x, _) => Task.FromResult(x * 10),
        ];

        IReadOnlyList<PipelineResult<int>> results = await Pipeline.QuickAsync(Enumerable.Range(0, 5), tasks, workers: 2, cancellationToken: ct);

        Assert.That(results.Select(r => r.Value), Is.EqualTo(new[] { 10, 20, 30, 40, 50 }));
    }
}
