namespace AntFlow.Dataflow.Tests.Executor;

public sealed partial class AsyncExecutorTests
{
    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_RandomDelays_StreamsResultsInInputOrder(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 6);
        var random = new Random(42);
        int[] delays = Enumerable.Range(0, 150).Select(_ => random.Next(0, 4)).ToArray();
        var results = new List<int>();

        await foreach (int value in executor.MapIterAsync(
            Enumerable.Range(0, 150),
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

                return -x;
            }).WithCancellation(cancellationToken))
        {
            results.Add(value);
        }

        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 150).Select(x => -x)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_BreakAfterFirstResult_StopsPullingInputAndCancelsRunningCalls(CancellationToken cancellationToken)
    {
        const int maxWorkers = 2;
        await using AsyncExecutor executor = CreateSut(maxWorkers);
        var source = new CountingSequence();
        var cancelled = new SemaphoreSlim(0);
        var running = new SemaphoreSlim(0);

        await foreach (int value in executor.MapIterAsync(source, async (int x, CancellationToken ct) =>
        {
            if (x == 0)
            {
                return x;
            }

            running.Release();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                cancelled.Release();
            }

            return x;
        }))
        {
            Assert.That(value, Is.Zero);
            await running.WaitAsync(cancellationToken);
            await running.WaitAsync(cancellationToken);
            break;
        }

        // Both workers were busy with inputs 1 and 2; leaving the loop cancels them.
        await cancelled.WaitAsync(cancellationToken);
        await cancelled.WaitAsync(cancellationToken);
        Assert.That(source.Produced, Is.EqualTo(1 + (2 * maxWorkers)), "the input handed out plus a look-ahead of 2 × maxWorkers");
        Assert.That(source.Disposed, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_SlowConsumer_NeverPullsMoreThanTheLookAhead(CancellationToken cancellationToken)
    {
        const int maxWorkers = 3;
        await using AsyncExecutor executor = CreateSut(maxWorkers);
        var source = new CountingSequence();
        int consumed = 0;
        int worstLead = 0;

        await foreach (int value in executor.MapIterAsync(source, (int x, CancellationToken ct) => Task.FromResult(x)))
        {
            consumed++;
            worstLead = Math.Max(worstLead, source.Produced - consumed);

            // Give the workers every chance to run ahead before the next result is asked for.
            await Task.Yield();
            if (consumed == 200)
            {
                break;
            }
        }

        Assert.That(worstLead, Is.LessThanOrEqualTo(2 * maxWorkers));
        Assert.That(source.Produced, Is.LessThanOrEqualTo(200 + (2 * maxWorkers)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_InfiniteInput_YieldsAsManyResultsAsAskedFor(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 4);

        static IEnumerable<int> Naturals()
        {
            for (int i = 0; ; i++)
            {
                yield return i;
            }
        }

        var squares = new List<long>();
        await foreach (long square in executor.MapIterAsync(Naturals(), async (int x, CancellationToken ct) =>
        {
            await Task.Yield();
            return (long)x * x;
        }))
        {
            squares.Add(square);
            if (squares.Count == 1_000)
            {
                break;
            }
        }

        Assert.That(squares, Is.EqualTo(Enumerable.Range(0, 1_000).Select(x => (long)x * x)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_InputFails_YieldsEarlierResultsThenThrowsTheOriginalException(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 3);
        var boom = new InvalidOperationException("input 5");
        var results = new List<int>();

        var ex = Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (int value in executor.MapIterAsync(Enumerable.Range(0, 20), async (int x, CancellationToken ct) =>
            {
                await Task.Yield();
                return x == 5 ? throw boom : x;
            }))
            {
                results.Add(value);
            }
        });

        Assert.That(ex, Is.SameAs(boom));
        Assert.That(results, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_Retries3_CallsFourTimesPerFailingInput(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 2);
        int calls = 0;

        var ex = Assert.ThrowsAsync<TimeoutException>(async () =>
        {
            await foreach (int value in executor.MapIterAsync(
                [1],
                (int x, CancellationToken ct) =>
                {
                    Interlocked.Increment(ref calls);
                    return Task.FromException<int>(new TimeoutException());
                },
                retries: 3))
            {
                Assert.Fail("no result expected");
            }
        });

        Assert.That(ex, Is.Not.Null);
        Assert.That(calls, Is.EqualTo(4));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_FlakyInput_RetriedAndStreamed(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 2);
        int calls = 0;
        var results = new List<int>();

        await foreach (int value in executor.MapIterAsync(
            [1, 2, 3],
            (int x, CancellationToken ct) => x == 2 && Interlocked.Increment(ref calls) <= 2
                ? Task.FromException<int>(new TimeoutException())
                : Task.FromResult(x * 3),
            retries: 2))
        {
            results.Add(value);
        }

        Assert.That(results, Is.EqualTo(new[] { 3, 6, 9 }));
        Assert.That(calls, Is.EqualTo(3));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_CallerCancels_ThrowsAndCancelsRunningCalls(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 2);
        using var cts = new CancellationTokenSource();
        var cancelled = new SemaphoreSlim(0);
        var results = new List<int>();

        Assert.CatchAsync<OperationCanceledException>(async () =>
        {
            await foreach (int value in executor.MapIterAsync(
                new CountingSequence(),
                async (int x, CancellationToken ct) =>
                {
                    if (x > 0)
                    {
                        try
                        {
                            await Task.Delay(Timeout.Infinite, ct);
                        }
                        finally
                        {
                            cancelled.Release();
                        }
                    }

                    return x;
                },
                cancellationToken: cts.Token))
            {
                results.Add(value);
                await cts.CancelAsync();
            }
        });

        await cancelled.WaitAsync(cancellationToken);
        Assert.That(results, Is.EqualTo(new[] { 0 }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_NothingEnumerated_TakesNoInput(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        var source = new CountingSequence();

        IAsyncEnumerable<int> stream = executor.MapIterAsync(source, (int x, CancellationToken ct) => Task.FromResult(x));

        Assert.That(stream, Is.Not.Null);
        Assert.That(source.Produced, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_ShutdownWhileStreaming_ThrowsExecutorShutdownException(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 1);
        var results = new List<int>();

        Assert.ThrowsAsync<ExecutorShutdownException>(async () =>
        {
            await foreach (int value in executor.MapIterAsync(new CountingSequence(), (int x, CancellationToken ct) => Task.FromResult(x)))
            {
                results.Add(value);
                if (value == 0)
                {
                    await executor.ShutdownAsync(wait: false);
                }
            }
        });

        // Inputs handed out before the shutdown still finished and were streamed.
        Assert.That(results, Is.EqualTo(new[] { 0, 1, 2 }));
        await executor.Completion;
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_InvalidArguments_Throw(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        Func<int, CancellationToken, Task<int>> function = (x, ct) => Task.FromResult(x);

        Assert.Throws<ArgumentNullException>(() => executor.MapIterAsync(null!, function));
        Assert.Throws<ArgumentNullException>(() => executor.MapIterAsync([1], (Func<int, CancellationToken, Task<int>>)null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => executor.MapIterAsync([1], function, retries: -1));
    }
}
