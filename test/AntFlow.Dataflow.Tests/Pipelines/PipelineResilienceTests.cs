using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.Pipelines;

[TestFixture]
public sealed class PipelineResilienceTests
{
    [Test, CancelAfter(10_000)]
    public async Task Retry_PerTask_CallsExactlyAttemptsTimes(CancellationToken ct)
    {
        int calls = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Flaky", s => s.Task("flaky", (int x) =>
            {
                Interlocked.Increment(ref calls);
                return x == 1 ? throw new InvalidOperationException("always") : x;
            }).Retry(RetryMode.PerTask, attempts: 3, delay: TimeSpan.Zero))
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync([1], ct);

        Assert.That(calls, Is.EqualTo(3));
        Assert.That(results[0].Attempts, Is.EqualTo(3));
        Assert.That(results[0].Error, Is.TypeOf<InvalidOperationException>());
    }

    [Test, CancelAfter(10_000)]
    public async Task Retry_PerStage_RequeuesAndCountsFinalFailureOnce(CancellationToken ct)
    {
        int calls = 0;
        int failures = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Flaky", s => s.Task("flaky", (int x) =>
            {
                Interlocked.Increment(ref calls);
                return x % 2 == 0 ? throw new InvalidOperationException("even") : x;
            })
            .Workers(2)
            .QueueCapacity(1)
            .Retry(RetryMode.PerStage, attempts: 3, delay: TimeSpan.Zero)
            .OnFailure((id, error) => Interlocked.Increment(ref failures)))
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 200), ct);

        Assert.That(results, Has.Count.EqualTo(200));
        Assert.That(results.Count(r => !r.IsSuccess), Is.EqualTo(100));
        Assert.That(results.Where(r => !r.IsSuccess).All(r => r.Attempts == 3), Is.True);
        Assert.That(calls, Is.EqualTo(100 + (100 * 3)));
        Assert.That(failures, Is.EqualTo(100));
        Assert.That(pipeline.GetStats().ItemsFailed, Is.EqualTo(100));
    }

    [Test, CancelAfter(10_000)]
    public async Task Retry_PerStageWithFakeTime_WaitsForBackoffBeforeRequeue(CancellationToken ct)
    {
        var time = new FakeTimeProvider();
        int calls = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Flaky", s => s.Task("flaky", (int x) => Interlocked.Increment(ref calls) == 1 ? throw new IOException() : x)
                .Retry(RetryMode.PerStage, attempts: 2, delay: TimeSpan.FromSeconds(10)))
            .WithTimeProvider(time)
            .Build();

        Task<IReadOnlyList<PipelineResult<int>>> run = pipeline.RunAsync([7], ct);
        // Wait until the failed attempt has left its worker and waits for its backoff timer.
        while (!(Volatile.Read(ref calls) == 1 && pipeline.GetStats().StageStats["Flaky"] is { InProgressItems: 0, PendingItems: 1 }))
        {
            await Task.Yield();
        }

        Assert.That(calls, Is.EqualTo(1));
        time.Advance(TimeSpan.FromSeconds(7)); // below the minimum jittered delay (7.5 s)
        Assert.That(calls, Is.EqualTo(1));
        time.Advance(TimeSpan.FromSeconds(6)); // above the maximum (12.5 s)
        IReadOnlyList<PipelineResult<int>> results = await run;
        Assert.That(results[0].IsSuccess, Is.True);
        Assert.That(results[0].Attempts, Is.EqualTo(2));
    }

    [Test]
    public void StageRetryDelay_StaysWithinJitterBounds()
    {
        TimeSpan baseDelay = TimeSpan.FromMilliseconds(200);
        for (int attempt = 1; attempt <= 5; attempt++)
        {
            double expected = 200 * Math.Pow(2, attempt - 1);
            Assert.That(Execution.StageRetryDelay.For(baseDelay, attempt, 0).TotalMilliseconds, Is.EqualTo(expected * 0.75).Within(0.01));
            Assert.That(Execution.StageRetryDelay.For(baseDelay, attempt, 0.999999).TotalMilliseconds, Is.EqualTo(expected * 1.25).Within(0.01));
        }
    }

    [Test, CancelAfter(10_000)]
    public async Task ConcurrencyLimit_BoundsConcurrentRunsOfTheTask(CancellationToken ct)
    {
        int current = 0;
        int max = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Limited", s => s.Task("limited", async (int x, CancellationToken token) =>
            {
                int now = Interlocked.Increment(ref current);
                InterlockedMax(ref max, now);
                await Task.Yield();
                await Task.Yield();
                Interlocked.Decrement(ref current);
                return x;
            }, concurrencyLimit: 2).Workers(8))
            .Build();

        await pipeline.RunAsync(Enumerable.Range(0, 300), ct);

        Assert.That(max, Is.InRange(1, 2));
    }

    [Test, CancelAfter(10_000)]
    public async Task RateLimit_SixtyPerFakeMinute_AllowsBurstOfSixtyThenWaitsForNextMinute(CancellationToken ct)
    {
        var time = new FakeTimeProvider();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Api", s => s.Task("call", (int x) => x).Workers(4).RateLimit(60, per: TimeSpan.FromMinutes(1)))
            .WithTimeProvider(time)
            .Build();

        Task<IReadOnlyList<PipelineResult<int>>> run = pipeline.RunAsync(Enumerable.Range(0, 150), ct);
        await WaitForProcessedAsync(pipeline, 60);
        for (int i = 0; i < 50; i++)
        {
            await Task.Yield();
        }

        Assert.That(pipeline.GetStats().ItemsProcessed, Is.EqualTo(60));
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.That(pipeline.GetStats().ItemsProcessed, Is.EqualTo(60));
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitForProcessedAsync(pipeline, 120);
        Assert.That(pipeline.GetStats().ItemsProcessed, Is.EqualTo(120));
        time.Advance(TimeSpan.FromMinutes(1));
        IReadOnlyList<PipelineResult<int>> results = await run;
        Assert.That(results.All(r => r.IsSuccess), Is.True);
    }

    [Test]
    public void RateLimit_UnknownTask_FailsBuild()
    {
        var ex = Assert.Throws<StageValidationException>(() => Pipeline.Create<int>()
            .Stage("Api", s => s.Task("call", (int x) => x).RateLimit(10, TimeSpan.FromSeconds(1), taskName: "other"))
            .Build());

        Assert.That(ex!.Message, Does.Contain("rate limit names task 'other'"));
    }

    private static async Task WaitForProcessedAsync(IPipelineMonitor pipeline, long count)
    {
        while (pipeline.GetStats().ItemsProcessed < count)
        {
            await Task.Yield();
        }
    }

    [Test, CancelAfter(10_000)]
    public async Task SkipIf_PassesInputThroughWithStatusSkipped(CancellationToken ct)
    {
        int calls = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", s => s.Task("work", (int x) =>
            {
                Interlocked.Increment(ref calls);
                return x * 100;
            }).SkipIf(x => x < 3))
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 5), ct);

        Assert.That(results.Select(r => r.Value), Is.EqualTo(new[] { 0, 1, 2, 300, 400 }));
        Assert.That(results.Select(r => r.Status), Is.EqualTo(new[] { ItemStatus.Skipped, ItemStatus.Skipped, ItemStatus.Skipped, ItemStatus.Completed, ItemStatus.Completed }));
        Assert.That(calls, Is.EqualTo(2));
        Assert.That(pipeline.GetStats().ItemsSkipped, Is.EqualTo(3));
    }

    [Test, CancelAfter(10_000)]
    public async Task SkipIf_ThrowingPredicate_FailsTheItem(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", s => s.Task("work", (int x) => x).SkipIf(x => x == 1 ? throw new FormatException("bad predicate") : false))
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync([0, 1], ct);

        Assert.That(results[0].IsSuccess, Is.True);
        Assert.That(results[1].Error, Is.TypeOf<FormatException>());
    }

    [Test, CancelAfter(10_000)]
    public async Task Callbacks_ThrowingCallbackNeverChangesOutcome(CancellationToken ct)
    {
        var successes = new ConcurrentBag<object>();
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Work", s => s.Task("work", (int x) => x)
                .OnSuccess((id, value) =>
                {
                    successes.Add(id);
                    throw new InvalidOperationException("callback bug");
                }))
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 20), ct);

        Assert.That(results.All(r => r.IsSuccess), Is.True);
        Assert.That(successes, Has.Count.EqualTo(20));
    }

    [Test, CancelAfter(10_000)]
    public async Task Timeout_WithFakeTime_FailsSlowTaskWithTimeoutException(CancellationToken ct)
    {
        var time = new FakeTimeProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Slow", s => s.Task("slow", async (int x, CancellationToken token) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, token);
                return x;
            }).Timeout(TimeSpan.FromSeconds(5)))
            .WithTimeProvider(time)
            .Build();

        Task<IReadOnlyList<PipelineResult<int>>> run = pipeline.RunAsync([1], ct);
        await started.Task.WaitAsync(ct);
        time.Advance(TimeSpan.FromSeconds(5));
        IReadOnlyList<PipelineResult<int>> results = await run;

        Assert.That(results[0].Error, Is.TypeOf<TimeoutException>());
    }

    [Test, CancelAfter(10_000)]
    public async Task WithCheckpoint_RerunSkipsFinishedItems(CancellationToken ct)
    {
        var store = new InMemoryCheckpointStore();
        int calls = 0;
        Pipeline<int, int> Build() => Pipeline.Create<int>()
            .Stage("Work", (int x) => x == 3 && Interlocked.Increment(ref calls) == 1 ? throw new IOException("crash") : x)
            .WithCheckpoint(store)
            .Build();

        IReadOnlyList<PipelineResult<int>> first = await Build().RunAsync(Enumerable.Range(0, 5), ct);
        IReadOnlyList<PipelineResult<int>> second = await Build().RunAsync(Enumerable.Range(0, 5), ct);

        Assert.That(first.Count(r => r.IsSuccess), Is.EqualTo(4));
        Assert.That(second.Count(r => r.Status == ItemStatus.Skipped), Is.EqualTo(4));
        Assert.That(second[3].Status, Is.EqualTo(ItemStatus.Completed));
        Assert.That(store.Count, Is.EqualTo(5));
    }

    [Test, CancelAfter(20_000)]
    public async Task Conservation_RandomFailuresAndShutdown_EveryItemComesOutOnce(CancellationToken ct)
    {
        for (int seed = 0; seed < 5; seed++)
        {
            var random = new Random(seed);
            int shutdownAfter = random.Next(10, 400);
            int finished = 0;
            var shutdownSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Pipeline<int, int> pipeline = Pipeline.Create<int>()
                .Stage("A", s => s.Task("a", async (int x, CancellationToken token) =>
                {
                    await Task.Yield();
                    return x % 11 == 0 ? throw new IOException() : x;
                }).Workers(3).Retry(RetryMode.PerStage, 2, TimeSpan.Zero))
                .Stage("B", s => s.Task("b", (int x) =>
                {
                    if (Interlocked.Increment(ref finished) == shutdownAfter)
                    {
                        shutdownSignal.TrySetResult();
                    }

                    return x % 13 == 0 ? throw new FormatException() : x;
                }).Workers(2).SkipIf(x => x % 17 == 0))
                .Build();

            pipeline.Start();
            Task feeding = pipeline.FeedAsync(Enumerable.Range(0, 1000), cancellationToken: ct);
            await Task.WhenAny(shutdownSignal.Task, feeding).WaitAsync(ct);
            await pipeline.ShutdownAsync();
            try
            {
                await feeding;
            }
            catch (InvalidOperationException)
            {
            }

            IReadOnlyList<PipelineResult<int>> results = pipeline.Results;
            PipelineStats stats = pipeline.GetStats();
            Assert.That(results.Select(r => r.SequenceId).Distinct().Count(), Is.EqualTo(results.Count), $"seed {seed}: duplicates");
            Assert.That(results.Count, Is.EqualTo(stats.ItemsFed), $"seed {seed}");
            Assert.That(stats.ItemsProcessed + stats.ItemsFailed + stats.ItemsCancelled, Is.EqualTo(stats.ItemsFed), $"seed {seed}");
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
