using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Polly;

namespace AntFlow.Dataflow.Tests.Executor;

/// <summary>
/// Edge cases of <see cref="AsyncExecutor"/>: cancellation while work is still queued, throwing inputs, timeouts,
/// shutdown races and failing log sinks. Tests that wait for something that may never happen race it against
/// <c>Task.Delay(Timeout.Infinite, cancellationToken)</c>, so a hang fails with a message at the CancelAfter limit.
/// </summary>
[TestFixture]
public sealed class AsyncExecutorEdgeCaseTests
{
    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static AsyncExecutor CreateSut(int maxWorkers = 4) =>
        new(new AsyncExecutorOptions { MaxWorkers = maxWorkers, RetryDelay = TimeSpan.Zero });

    /// <summary>Occupies one worker until <paramref name="gate"/> is released; completes once the job is running.</summary>
    private static async Task<Task> OccupyWorkerAsync(AsyncExecutor executor, TaskCompletionSource gate)
    {
        TaskCompletionSource started = NewGate();
        Task blocker = executor.Submit(async ct =>
        {
            started.SetResult();
            await gate.Task;
        });
        await started.Task;
        return blocker;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Cancellation while the work is still queued
    // ---------------------------------------------------------------------------------------------------------

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_CallerCancelsWhileAllWorkersAreBusy_EndsCanceledWithoutWaitingForAWorker(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 1);
        TaskCompletionSource gate = NewGate();
        Task blocker = await OccupyWorkerAsync(executor, gate);
        using var cts = new CancellationTokenSource();
        int calls = 0;

        Task<IReadOnlyList<int>> map = executor.MapAsync(
            [1, 2, 3],
            (int x, CancellationToken ct) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult(x);
            },
            cancellationToken: cts.Token);
        try
        {
            await cts.CancelAsync();

            // Submit(job, token) ends a queued job canceled at once; MapAsync must not wait for an unrelated job.
            Task finished = await Task.WhenAny(map, Task.Delay(Timeout.Infinite, cancellationToken));
            Assert.That(finished, Is.SameAs(map), "the map stayed pending after its token was cancelled, until a worker frees up");
            Assert.That(map.IsCanceled, Is.True);
        }
        finally
        {
            gate.SetResult();
            await blocker;
            await executor.ShutdownAsync();
        }

        Assert.That(calls, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_CallerCancelsWhileTheNextInputIsQueued_EndsWithoutWaitingForAWorker(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 1);
        TaskCompletionSource gate = NewGate();
        Task blocker = await OccupyWorkerAsync(executor, gate);
        using var cts = new CancellationTokenSource();
        int calls = 0;

        IAsyncEnumerator<int> stream = executor.MapIterAsync(
            [1, 2, 3],
            (int x, CancellationToken ct) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromResult(x);
            },
            cancellationToken: cts.Token).GetAsyncEnumerator(CancellationToken.None);
        Task<bool> move = stream.MoveNextAsync().AsTask();
        try
        {
            Assert.That(move.IsCompleted, Is.False, "input 1 waits behind the busy worker");
            await cts.CancelAsync();

            Task finished = await Task.WhenAny(move, Task.Delay(Timeout.Infinite, cancellationToken));
            Assert.That(finished, Is.SameAs(move), "the stream kept waiting for a queued input after its token was cancelled");
            Assert.CatchAsync<OperationCanceledException>(() => move);
        }
        finally
        {
            gate.SetResult();
            await blocker;
            try
            {
                await move;
            }
            catch (OperationCanceledException)
            {
                // Expected once the queued input finally reaches the worker and sees its token.
            }

            await stream.DisposeAsync();
            await executor.ShutdownAsync();
        }

        Assert.That(calls, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_ShutdownWithCancelPendingWhileAllWorkersAreBusy_EndsCanceledAtOnce(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 1);
        TaskCompletionSource started = NewGate();
        Task<int> blocker = executor.Submit(async ct =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        });
        await started.Task;
        int calls = 0;

        Task<IReadOnlyList<int>> map = executor.MapAsync([1, 2, 3], (int x, CancellationToken ct) =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(x);
        });
        await executor.ShutdownAsync(wait: false, cancelPending: true);

        Assert.That(map.IsCanceled, Is.True, "the map's queued jobs were taken back from the queue");
        await executor.Completion;
        Assert.That(blocker.IsCanceled, Is.True);
        Assert.That(calls, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_CallerCancelsDuringRetryDelay_EndsCanceledWithoutAnotherCall(CancellationToken cancellationToken)
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
        using var cts = new CancellationTokenSource();
        int calls = 0;

        Task<IReadOnlyList<int>> map = executor.MapAsync(
            [1],
            (int x, CancellationToken ct) =>
            {
                Interlocked.Increment(ref calls);
                return Task.FromException<int>(new TimeoutException("transient"));
            },
            retries: 3,
            cancellationToken: cts.Token);
        await time.WaitForTimerAsync(cancellationToken);
        await cts.CancelAsync();

        Assert.CatchAsync<OperationCanceledException>(() => map);
        Assert.That(map.IsCanceled, Is.True);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(Volatile.Read(ref calls), Is.EqualTo(1));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Throwing inputs
    // ---------------------------------------------------------------------------------------------------------

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_EnumeratorThrows_YieldsEarlierResultsThenThrowsItsException(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 2);
        var results = new List<int>();

        static IEnumerable<int> Broken()
        {
            yield return 0;
            yield return 1;
            throw new FormatException("bad input 2");
        }

        var ex = Assert.ThrowsAsync<FormatException>(async () =>
        {
            await foreach (int value in executor.MapIterAsync(Broken(), (int x, CancellationToken ct) => Task.FromResult(x + 100)))
            {
                results.Add(value);
            }
        });

        Assert.That(ex!.Message, Is.EqualTo("bad input 2"));
        Assert.That(results, Is.EqualTo(new[] { 100, 101 }), "inputs 0 and 1 were taken and ran; their results must not be dropped");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_EnumeratorThrows_CancelsTheRunningInputAndDisposesTheEnumerator(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 2);
        bool zeroCancelled = false;
        var source = new ThrowingSequence(goodItems: 1, new FormatException("bad input 1"));

        var ex = Assert.ThrowsAsync<FormatException>(() => executor.MapAsync(source, async (int x, CancellationToken ct) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                zeroCancelled = true;
                throw;
            }

            return x;
        }));

        Assert.That(ex!.Message, Is.EqualTo("bad input 1"));
        Assert.That(zeroCancelled, Is.True, "the input already running saw its token cancelled");
        Assert.That(source.DisposeCount, Is.EqualTo(1), "the enumerator is disposed exactly once");
        Assert.That(source.MoveNextCount, Is.EqualTo(2), "nobody calls the enumerator again after it threw");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Waiting, timeouts and options
    // ---------------------------------------------------------------------------------------------------------

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_TimeoutLongerThanTheTimerLimit_WaitsInsteadOfFaulting(CancellationToken cancellationToken)
    {
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Documented: only a negative timeout (other than infinite) is rejected.
        var wait = AsyncExecutor.WaitAsync([source.Task], WaitStrategy.AllCompleted, TimeSpan.MaxValue, cancellationToken);

        Assert.That(wait.IsFaulted, Is.False, () => $"a valid timeout made the wait fault later: {wait.Exception?.InnerException}");
        source.SetResult(1);
        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await wait;
        Assert.That(done, Is.EquivalentTo(new[] { source.Task }));
        Assert.That(pending, Is.Empty);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task AsCompleted_TimeoutLongerThanTheTimerLimit_EnumeratesInsteadOfThrowing(CancellationToken cancellationToken)
    {
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using IAsyncEnumerator<Task<int>> e = AsyncExecutor
            .AsCompleted([source.Task], TimeSpan.FromDays(60))
            .GetAsyncEnumerator(cancellationToken);

        Task<bool> move = e.MoveNextAsync().AsTask();

        Assert.That(move.IsFaulted, Is.False, () => $"a valid timeout made the enumeration throw late: {move.Exception?.InnerException}");
        source.SetResult(1);
        Assert.That(await move, Is.True);
        Assert.That(e.Current, Is.SameAs(source.Task));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_RepeatedFirstCompletedWaits_LeaveNoContinuationOnTasksStillPending(CancellationToken cancellationToken)
    {
        // The usual loop `while (pending.Count > 0) (done, pending) = await WaitAsync(pending, FirstCompleted)`
        // must not pile one continuation (and its waiter) per finished wait onto every task still pending.
        // Counted through Task's private continuation slot: there is no public way to observe it.
        System.Reflection.FieldInfo? slot = typeof(Task).GetField(
            "m_continuationObject", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);
        if (slot is null)
        {
            Assert.Inconclusive("This runtime keeps task continuations elsewhere.");
        }

        var slow = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        for (int i = 0; i < 100; i++)
        {
            var fast = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var wait = AsyncExecutor.WaitAsync([slow.Task, fast.Task], WaitStrategy.FirstCompleted, cancellationToken: cancellationToken);
            fast.SetResult(i);
            (IReadOnlySet<Task<int>> _, IReadOnlySet<Task<int>> pending) = await wait;
            Assert.That(pending, Is.EquivalentTo(new[] { slow.Task }));
        }

        object? continuations = slot!.GetValue(slow.Task);
        int live = continuations switch
        {
            null => 0,
            System.Collections.IList list => list.Cast<object?>().Count(c => c is not null),
            _ => 1,
        };
        Assert.That(live, Is.Zero, "every finished wait left its continuation on the task that is still pending");
    }

    [Test]
    public void Options_UndefinedRetryBackoffType_ThrowsWhenSet()
    {
        var options = new AsyncExecutorOptions();

        // Accepted today, it surfaces only at an input's first retry, as an ArgumentOutOfRangeException ("type")
        // that replaces the input's own failure and fails a map that would have succeeded.
        Assert.Throws<ArgumentOutOfRangeException>(() => options.RetryBackoffType = (DelayBackoffType)42);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Shutdown
    // ---------------------------------------------------------------------------------------------------------

    [Test]
    [CancelAfter(10_000)]
    public async Task MapAsync_JobSubmittedAfterTheMap_StartsAfterEveryMapInput(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 1);
        TaskCompletionSource gate = NewGate();
        Task blocker = await OccupyWorkerAsync(executor, gate);
        var order = new ConcurrentQueue<string>();

        Task<IReadOnlyList<int>> map = executor.MapAsync(Enumerable.Range(0, 5), async (int x, CancellationToken ct) =>
        {
            order.Enqueue($"map {x}");
            await Task.Yield();
            return x;
        });
        Task<int> later = executor.Submit(ct =>
        {
            order.Enqueue("submitted");
            return Task.FromResult(-1);
        });
        gate.SetResult();
        await blocker;

        Assert.That(await map, Is.EqualTo(Enumerable.Range(0, 5)));
        Assert.That(await later, Is.EqualTo(-1));
        Assert.That(order, Is.EqualTo(new[] { "map 0", "map 1", "map 2", "map 3", "map 4", "submitted" }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task MapIterAsync_ShutdownWithCancelPendingWhileStreaming_EndsCanceledWithoutHanging(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 1);
        var results = new List<int>();

        Assert.CatchAsync<OperationCanceledException>(async () =>
        {
            await foreach (int value in executor.MapIterAsync(new CountingSequence(), async (int x, CancellationToken ct) =>
            {
                if (x > 0)
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }

                return x;
            }))
            {
                results.Add(value);
                await executor.ShutdownAsync(wait: false, cancelPending: true);
            }
        });

        await executor.Completion;
        Assert.That(results, Is.EqualTo(new[] { 0 }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_RacingWithDisposeAsync_EveryJobRunsOrIsRejected(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 2);
        var accepted = new ConcurrentQueue<Task<int>>();
        int rejected = 0;
        TaskCompletionSource go = NewGate();

        Task submitter = Task.Run(
            async () =>
            {
                await go.Task;
                for (int i = 0; i < 10_000; i++)
                {
                    int value = i;
                    try
                    {
                        accepted.Enqueue(executor.Submit(async ct =>
                        {
                            await Task.Yield();
                            return value;
                        }));
                    }
                    catch (ExecutorShutdownException)
                    {
                        rejected++;
                        return;
                    }
                }
            },
            cancellationToken);
        go.SetResult();
        await executor.DisposeAsync();
        await submitter;

        // Whatever the interleaving: a job was either rejected at the call or had run when disposal returned.
        Assert.That(accepted.Select(t => t.Status), Is.All.EqualTo(TaskStatus.RanToCompletion));
        Assert.That(accepted.Count + rejected, Is.GreaterThan(0));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Throwing jobs
    // ---------------------------------------------------------------------------------------------------------

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_JobTaskFaultsWithSeveralExceptions_KeepsThemAll(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        var first = new InvalidOperationException("first");
        var second = new FormatException("second");

        // "Whatever the job does ends up in the returned task ... unchanged", as with Task.Run.
        Task<int[]> viaTaskRun = Task.Run(() => Task.WhenAll(Task.FromException<int>(first), Task.FromException<int>(second)), cancellationToken);
        Task<int[]> viaExecutor = executor.Submit(ct => Task.WhenAll(Task.FromException<int>(first), Task.FromException<int>(second)));
        await Task.WhenAll(viaTaskRun, viaExecutor).ContinueWith(static _ => { }, cancellationToken, TaskContinuationOptions.None, TaskScheduler.Default);

        Assert.That(viaTaskRun.Exception!.InnerExceptions, Is.EqualTo(new Exception[] { first, second }));
        Assert.That(viaExecutor.Exception!.InnerExceptions, Is.EqualTo(new Exception[] { first, second }), "the second failure of the job's task was dropped");
    }

    // ---------------------------------------------------------------------------------------------------------
    // A failing log sink (Microsoft.Extensions.Logging rethrows provider failures as AggregateException)
    // ---------------------------------------------------------------------------------------------------------

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_LoggerThrowsWhileLoggingAJobFailure_JobTaskStillFaultsAndExecutorKeepsRunning(CancellationToken cancellationToken)
    {
        using var provider = new ThrowingLoggerProvider("JobFailed");
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        var executor = new AsyncExecutor(new AsyncExecutorOptions { MaxWorkers = 1, LoggerFactory = loggerFactory });
        var boom = new InvalidOperationException("job failed");

        Task<int> failing = executor.Submit<int>(ct => throw boom);
        Task first = await Task.WhenAny(failing, executor.Completion);

        Assert.That(first, Is.SameAs(failing), () => $"the job's task never completed and the worker block faulted: {executor.Completion.Exception?.InnerException}");
        Assert.That(failing.Exception?.InnerException, Is.SameAs(boom));
        Assert.That(await executor.Submit(ct => Task.FromResult(2)), Is.EqualTo(2));
        await executor.ShutdownAsync();
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task ShutdownAsync_LoggerThrowsWhileLoggingTheRequest_ExecutorStillCompletes(CancellationToken cancellationToken)
    {
        using var provider = new ThrowingLoggerProvider("ShutdownRequested");
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        var executor = new AsyncExecutor(new AsyncExecutorOptions { MaxWorkers = 1, LoggerFactory = loggerFactory });

        // A failing log sink is dropped, so the request itself does not throw either.
        await executor.ShutdownAsync(wait: false);

        Task finished = await Task.WhenAny(executor.Completion, Task.Delay(Timeout.Infinite, cancellationToken));
        Assert.That(finished, Is.SameAs(executor.Completion), "IsShutdown is true but the queue was never completed, so the executor never completes");
        Assert.That(executor.IsShutdown, Is.True);
    }

    /// <summary>A single-use input whose enumerator yields <c>goodItems</c> values, then throws; it counts calls.</summary>
    private sealed class ThrowingSequence(int goodItems, Exception error) : IEnumerable<int>, IEnumerator<int>
    {
        private int _moveNext;
        private int _dispose;

        public int MoveNextCount => Volatile.Read(ref _moveNext);

        public int DisposeCount => Volatile.Read(ref _dispose);

        public int Current { get; private set; } = -1;

        object System.Collections.IEnumerator.Current => Current;

        public IEnumerator<int> GetEnumerator() => this;

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => this;

        public bool MoveNext()
        {
            if (Interlocked.Increment(ref _moveNext) > goodItems)
            {
                throw error;
            }

            Current++;
            return true;
        }

        public void Reset() => throw new NotSupportedException();

        public void Dispose() => Interlocked.Increment(ref _dispose);
    }

    /// <summary>A log sink that fails for one event name.</summary>
    private sealed class ThrowingLoggerProvider(string eventName) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(eventName);

        public void Dispose()
        {
        }

        private sealed class Logger(string eventName) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (eventId.Name == eventName)
                {
                    throw new IOException($"log sink unavailable while writing {eventName}");
                }
            }
        }
    }
}
