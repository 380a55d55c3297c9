using Microsoft.Extensions.Logging;
using Polly;

namespace AntFlow.Dataflow.Tests.Executor;

public sealed partial class AsyncExecutorTests
{
    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_RandomDelays_ReturnsResultsInInputOrder(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 8);
        var random = new Random(1234);
        int[] delays = Enumerable.Range(0, 200).Select(_ => random.Next(0, 4)).ToArray();

        IReadOnlyList<int> results = await executor.MapAsync(
            Enumerable.Range(0, 200),
            async (int x, CancellationToken ct) =>
            {
                for (int i = 0; i < delays[x]; i++)
                {
                    await Task.Yield();
                }

                if (delays[x] == 3)
                {
                    await Task.Delay(1, ct);
                }

                return x * 2;
            });

        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 200).Select(x => x * 2)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_LazyInputLongerThanOneChunk_ReturnsEveryResultInOrder(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 4);
        var source = new CountingSequence(count: 20_000);

        IReadOnlyList<long> results = await executor.MapAsync(
            source, (int x, CancellationToken ct) => Task.FromResult((long)x * x));

        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 20_000).Select(x => (long)x * x)));
        Assert.That(source.Disposed, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_EmptyInput_ReturnsEmptyList(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();

        IReadOnlyList<int> fromArray = await executor.MapAsync(Array.Empty<int>(), (int x, CancellationToken ct) => Task.FromResult(x));
        IReadOnlyList<int> fromLazy = await executor.MapAsync(new CountingSequence(0), (int x, CancellationToken ct) => Task.FromResult(x));

        Assert.That(fromArray, Is.Empty);
        Assert.That(fromLazy, Is.Empty);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_ManyInputs_NeverMoreThanMaxWorkersRunAtOnce(CancellationToken cancellationToken)
    {
        const int maxWorkers = 3;
        await using AsyncExecutor executor = CreateSut(maxWorkers);
        var probe = new ConcurrencyProbe();
        var started = new SemaphoreSlim(0);
        TaskCompletionSource gate = NewGate();

        Task<IReadOnlyList<int>> map = executor.MapAsync(Enumerable.Range(0, 30), async (int x, CancellationToken ct) =>
        {
            probe.Enter();
            started.Release();
            await gate.Task;
            probe.Exit();
            return x;
        });
        for (int i = 0; i < maxWorkers; i++)
        {
            await started.WaitAsync(cancellationToken);
        }

        Assert.That(probe.Running, Is.EqualTo(maxWorkers));
        gate.SetResult();
        IReadOnlyList<int> results = await map;

        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 30)));
        Assert.That(probe.Max, Is.EqualTo(maxWorkers));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_SubmitWhileMapRuns_WorkerLimitIsShared(CancellationToken cancellationToken)
    {
        const int maxWorkers = 2;
        await using AsyncExecutor executor = CreateSut(maxWorkers);
        var probe = new ConcurrencyProbe();
        TaskCompletionSource gate = NewGate();
        TaskCompletionSource submittedStarted = NewGate();

        Task<int> submitted = executor.Submit(async ct =>
        {
            probe.Enter();
            submittedStarted.SetResult();
            await gate.Task;
            probe.Exit();
            return -1;
        });
        await submittedStarted.Task;
        Task<IReadOnlyList<int>> map = executor.MapAsync(Enumerable.Range(0, 20), async (int x, CancellationToken ct) =>
        {
            probe.Enter();
            await Task.Yield();
            probe.Exit();
            return x;
        });

        Assert.That(await map, Is.EqualTo(Enumerable.Range(0, 20)));
        Assert.That(probe.Max, Is.EqualTo(maxWorkers), "the map used only the worker the submitted job left free");
        gate.SetResult();
        Assert.That(await submitted, Is.EqualTo(-1));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_OneWorker_InputsStartInInputOrder(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 1);
        var order = new List<int>();

        await executor.MapAsync(Enumerable.Range(0, 100), async (int x, CancellationToken ct) =>
        {
            order.Add(x);
            await Task.Yield();
            return x;
        });

        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 100)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_Retries3_CallsFourTimesThenThrowsTheOriginalException(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        int calls = 0;
        Exception? last = null;

        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => executor.MapAsync(
            [7],
            (int x, CancellationToken ct) =>
            {
                Interlocked.Increment(ref calls);
                last = new InvalidOperationException($"attempt {calls}");
                return Task.FromException<int>(last);
            },
            retries: 3));

        Assert.That(calls, Is.EqualTo(4));
        Assert.That(ex, Is.SameAs(last));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_DefaultRetries_CallsOnce(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        int calls = 0;

        Assert.ThrowsAsync<InvalidOperationException>(() => executor.MapAsync([1], (int x, CancellationToken ct) =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromException<int>(new InvalidOperationException());
        }));

        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_FlakyInputs_SucceedAfterRetries(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        var calls = new int[10];

        IReadOnlyList<int> results = await executor.MapAsync(
            Enumerable.Range(0, 10),
            async (int x, CancellationToken ct) =>
            {
                await Task.Yield();
                int call = Interlocked.Increment(ref calls[x]);
                return call <= x % 3 ? throw new TimeoutException($"flaky {x}") : x + 100;
            },
            retries: 2);

        Assert.That(results, Is.EqualTo(Enumerable.Range(100, 10)));
        Assert.That(calls, Is.EqualTo(Enumerable.Range(0, 10).Select(x => (x % 3) + 1)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_RetryDelay_IsWaitedOnTheOptionsTimeProvider(CancellationToken cancellationToken)
    {
        var time = new TimerSignalingTimeProvider();
        await using var executor = new AsyncExecutor(new AsyncExecutorOptions
        {
            MaxWorkers = 1,
            TimeProvider = time,
            RetryDelay = TimeSpan.FromSeconds(10),
            RetryBackoffType = DelayBackoffType.Constant,
            UseJitter = false,
        });
        int calls = 0;

        Task<IReadOnlyList<int>> map = executor.MapAsync(
            [5],
            (int x, CancellationToken ct) => Interlocked.Increment(ref calls) == 1
                ? Task.FromException<int>(new InvalidOperationException("first call fails"))
                : Task.FromResult(x),
            retries: 1,
            cancellationToken);
        await time.WaitForTimerAsync(cancellationToken);

        time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.That(Volatile.Read(ref calls), Is.EqualTo(1), "the retry waits for the full delay");
        Assert.That(map.IsCompleted, Is.False);
        time.Advance(TimeSpan.FromTicks(1));

        Assert.That(await map, Is.EqualTo(new[] { 5 }));
        Assert.That(calls, Is.EqualTo(2));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_OperationCanceledFromTheFunction_IsNotRetried(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        int calls = 0;
        var own = new OperationCanceledException("the function gave up on its own");

        var ex = Assert.CatchAsync<OperationCanceledException>(() => executor.MapAsync(
            [1],
            (int x, CancellationToken ct) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromException<int>(own);
            },
            retries: 3));

        Assert.That(ex, Is.SameAs(own));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_InputFails_ThrowsItsExceptionAndCancelsTheRest(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 2);
        var boom = new InvalidOperationException("input 1 failed");
        int calls = 0;
        bool zeroCancelled = false;
        TaskCompletionSource zeroStarted = NewGate();

        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => executor.MapAsync<int, int>(
            Enumerable.Range(0, 100),
            async (int x, CancellationToken ct) =>
            {
                Interlocked.Increment(ref calls);
                if (x == 0)
                {
                    zeroStarted.SetResult();
                    try
                    {
                        await Task.Delay(Timeout.Infinite, ct);
                    }
                    catch (OperationCanceledException)
                    {
                        zeroCancelled = true;
                        throw;
                    }
                }

                await zeroStarted.Task;
                throw boom;
            }));

        Assert.That(ex, Is.SameAs(boom));
        Assert.That(zeroCancelled, Is.True, "the running input saw its token cancelled before MapAsync returned");
        Assert.That(calls, Is.EqualTo(2), "no input started after the failure");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_CallerCancels_ThrowsOperationCanceled(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 2);
        using var cts = new CancellationTokenSource();
        var started = new SemaphoreSlim(0);

        Task<IReadOnlyList<int>> map = executor.MapAsync(
            Enumerable.Range(0, 100),
            async (int x, CancellationToken ct) =>
            {
                started.Release();
                await Task.Delay(Timeout.Infinite, ct);
                return x;
            },
            cancellationToken: cts.Token);
        await started.WaitAsync(cancellationToken);
        await cts.CancelAsync();

        Assert.CatchAsync<OperationCanceledException>(() => map);
        Assert.That(map.IsCanceled, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_AlreadyCancelledToken_ReturnsCanceledTaskWithoutCalling(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        int calls = 0;

        Task<IReadOnlyList<int>> map = executor.MapAsync(
            [1, 2],
            (int x, CancellationToken ct) => Task.FromResult(Interlocked.Increment(ref calls)),
            cancellationToken: new CancellationToken(canceled: true));

        Assert.That(map.IsCanceled, Is.True);
        await executor.ShutdownAsync();
        Assert.That(calls, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_EnumeratorThrows_ThrowsItsException(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();

        static IEnumerable<int> Broken()
        {
            yield return 1;
            throw new FormatException("bad input");
        }

        var ex = Assert.ThrowsAsync<FormatException>(() => executor.MapAsync(Broken(), (int x, CancellationToken ct) => Task.FromResult(x)));

        Assert.That(ex!.Message, Is.EqualTo("bad input"));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_ShutdownWithCancelPending_MapEndsCanceled(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 2);
        var started = new SemaphoreSlim(0);

        Task<IReadOnlyList<int>> map = executor.MapAsync(Enumerable.Range(0, 100), async (int x, CancellationToken ct) =>
        {
            started.Release();
            await Task.Delay(Timeout.Infinite, ct);
            return x;
        });
        await started.WaitAsync(cancellationToken);
        await executor.ShutdownAsync(wait: true, cancelPending: true);

        Assert.CatchAsync<OperationCanceledException>(() => map);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_InvalidArguments_Throw(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        Func<int, CancellationToken, Task<int>> function = (x, ct) => Task.FromResult(x);

        Assert.Throws<ArgumentNullException>(() => executor.MapAsync(null!, function));
        Assert.Throws<ArgumentNullException>(() => executor.MapAsync([1], (Func<int, CancellationToken, Task<int>>)null!));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => executor.MapAsync([1], function, retries: -1));
        Assert.That(ex.ParamName, Is.EqualTo("retries"));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_RetryScheduled_IsLoggedWithTheInputPosition(CancellationToken cancellationToken)
    {
        using var provider = new RecordingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(provider));
        await using var executor = new AsyncExecutor(new AsyncExecutorOptions
        {
            MaxWorkers = 1,
            RetryDelay = TimeSpan.Zero,
            LoggerFactory = loggerFactory,
        });
        int calls = 0;

        await executor.MapAsync(
            [10, 11, 12],
            (int x, CancellationToken ct) => x == 12 && Interlocked.Increment(ref calls) == 1
                ? Task.FromException<int>(new TimeoutException())
                : Task.FromResult(x),
            retries: 1);

        Assert.That(
            provider.Entries.Where(e => e.EventName == "RetryScheduled").Select(e => e.Message),
            Is.EqualTo(new[] { "Item 2 failed on attempt 1; retrying in 00:00:00" }));
    }
}
