using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Tests.Executor;

[TestFixture]
public sealed partial class AsyncExecutorTests
{
    private static Task<int> WorkAsync(int x, CancellationToken ct) => Task.FromResult(x * 10);

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static AsyncExecutor CreateSut(int maxWorkers = 4, TimeProvider? timeProvider = null) =>
        new(new AsyncExecutorOptions
        {
            MaxWorkers = maxWorkers,
            RetryDelay = TimeSpan.Zero,
            TimeProvider = timeProvider ?? TimeProvider.System,
        });

    [Test]
    [CancelAfter(10_000)]
    public async Task Contract_ApiSnippet_CompilesAndRuns(CancellationToken cancellationToken)
    {
        int[] items = [1, 2, 3];
        await using var executor = new AsyncExecutor(maxWorkers: 10);
        Task<int> one = executor.Submit(ct => WorkAsync(1, ct));
        IReadOnlyList<int> all = await executor.MapAsync(items, (int x, CancellationToken ct) => WorkAsync(x, ct), retries: 3);
        var streamed = new List<int>();
        await foreach (int v in executor.MapIterAsync(items, WorkAsync, retries: 3))
        {
            streamed.Add(v);
        }

        Task<int>[] tasks = [one, Task.FromResult(7)];
        var completed = new List<Task<int>>();
        await foreach (Task<int> t in AsyncExecutor.AsCompleted(tasks))
        {
            completed.Add(t);
        }

        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) =
            await AsyncExecutor.WaitAsync(tasks, WaitStrategy.FirstException, timeout: TimeSpan.FromSeconds(5));
        await executor.ShutdownAsync(wait: true, cancelPending: false);

        Assert.That(await one, Is.EqualTo(10));
        Assert.That(all, Is.EqualTo(new[] { 10, 20, 30 }));
        Assert.That(streamed, Is.EqualTo(new[] { 10, 20, 30 }));
        Assert.That(completed, Is.EquivalentTo(tasks));
        Assert.That(done, Is.EquivalentTo(tasks));
        Assert.That(pending, Is.Empty);
        Assert.Throws<ExecutorShutdownException>(() => executor.Submit(ct => WorkAsync(1, ct)));
        Assert.Throws<ExecutorShutdownException>(() => executor.MapAsync(items, (int x, CancellationToken ct) => WorkAsync(x, ct)));
    }

    private static Task<string> DescribeAsync(CancellationToken ct) => Task.FromResult("generic");

    private static Task PlainAsync(CancellationToken ct) => Task.CompletedTask;

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_MethodGroups_BindToTheMatchingOverload(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();

        Task<string> generic = executor.Submit(DescribeAsync);
        Task plain = executor.Submit(PlainAsync);
        Task<int> asyncLambda = executor.Submit(async ct =>
        {
            await Task.Yield();
            return 5;
        });

        Assert.That(await generic, Is.EqualTo("generic"));
        await plain;
        Assert.That(await asyncLambda, Is.EqualTo(5));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void Constructor_MaxWorkersBelowOne_ThrowsArgumentOutOfRange(int maxWorkers)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new AsyncExecutor(maxWorkers));

        Assert.That(ex.ParamName, Is.EqualTo("maxWorkers"));
    }

    [Test]
    public void Constructor_NullOptions_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => _ = new AsyncExecutor((AsyncExecutorOptions)null!));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Constructor_Options_AreCopied(CancellationToken cancellationToken)
    {
        var options = new AsyncExecutorOptions { MaxWorkers = 3 };
        await using var executor = new AsyncExecutor(options);

        options.MaxWorkers = 7;

        Assert.That(executor.MaxWorkers, Is.EqualTo(3));
        Assert.That(executor.IsShutdown, Is.False);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_Job_ReturnsItsResult(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();

        int result = await executor.Submit(async ct =>
        {
            await Task.Yield();
            return 42;
        });

        Assert.That(result, Is.EqualTo(42));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_JobThrows_TaskFaultsWithTheSameException(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        var boom = new InvalidOperationException("boom");

        Task<int> task = executor.Submit<int>(async ct =>
        {
            await Task.Yield();
            throw boom;
        });

        var ex = Assert.ThrowsAsync<InvalidOperationException>(async () => await task);
        Assert.That(ex, Is.SameAs(boom));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_JobThrowsSynchronously_TaskFaults(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        var boom = new FormatException("sync");

        Task<int> task = executor.Submit<int>(ct => throw boom);

        var ex = Assert.ThrowsAsync<FormatException>(async () => await task);
        Assert.That(ex, Is.SameAs(boom));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_JobThrowsItsOwnOperationCanceled_TaskFaultsWithIt(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        var own = new OperationCanceledException("a timeout inside the job");

        Task<int> task = executor.Submit<int>(async ct =>
        {
            await Task.Yield();
            throw own;
        });

        var ex = Assert.ThrowsAsync<OperationCanceledException>(async () => await task);
        Assert.That(ex, Is.SameAs(own));
        Assert.That(task.IsFaulted, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_JobReturnsNullTask_TaskFaultsWithInvalidOperation(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();

        Task<int> task = executor.Submit<int>(ct => null!);

        Assert.ThrowsAsync<InvalidOperationException>(async () => await task);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_NonGenericJob_CompletesAndKeepsItsException(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        int ran = 0;
        var boom = new InvalidOperationException("boom");

        await executor.Submit(async ct =>
        {
            await Task.Yield();
            Interlocked.Increment(ref ran);
        });
        Task failing = executor.Submit(async ct =>
        {
            await Task.Yield();
            throw boom;
        });

        Assert.That(ran, Is.EqualTo(1));
        var ex = Assert.ThrowsAsync<InvalidOperationException>(async () => await failing);
        Assert.That(ex, Is.SameAs(boom));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_NullJob_ThrowsArgumentNull(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();

        Assert.Throws<ArgumentNullException>(() => executor.Submit((Func<CancellationToken, Task<int>>)null!));
        Assert.Throws<ArgumentNullException>(() => executor.Submit((Func<CancellationToken, Task>)null!));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_ManyJobs_NeverMoreThanMaxWorkersRunAtOnce(CancellationToken cancellationToken)
    {
        const int maxWorkers = 3;
        await using AsyncExecutor executor = CreateSut(maxWorkers);
        var probe = new ConcurrencyProbe();
        var started = new SemaphoreSlim(0);
        TaskCompletionSource gate = NewGate();

        Task<int>[] jobs = Enumerable.Range(0, 20).Select(i => executor.Submit(async ct =>
        {
            probe.Enter();
            started.Release();
            await gate.Task;
            probe.Exit();
            return i;
        })).ToArray();

        for (int i = 0; i < maxWorkers; i++)
        {
            await started.WaitAsync(cancellationToken);
        }

        Assert.That(probe.Running, Is.EqualTo(maxWorkers));
        gate.SetResult();
        int[] results = await Task.WhenAll(jobs);

        Assert.That(results, Is.EqualTo(Enumerable.Range(0, 20)));
        Assert.That(probe.Max, Is.EqualTo(maxWorkers));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_QueuedJobs_StartInSubmissionOrder(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 1);
        TaskCompletionSource gate = NewGate();
        var order = new List<int>();

        Task blocker = executor.Submit(ct => gate.Task);
        Task[] jobs = Enumerable.Range(0, 50).Select(i => executor.Submit(ct =>
        {
            order.Add(i);
            return Task.CompletedTask;
        })).ToArray();
        gate.SetResult();
        await Task.WhenAll(jobs);

        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 50)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_CallerTokenCancelledWhileQueued_TaskCanceledAndJobNeverRuns(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut(maxWorkers: 1);
        TaskCompletionSource gate = NewGate();
        using var cts = new CancellationTokenSource();
        bool ran = false;

        Task blocker = executor.Submit(ct => gate.Task);
        Task<int> queued = executor.Submit(
            ct =>
            {
                ran = true;
                return Task.FromResult(1);
            },
            cts.Token);
        await cts.CancelAsync();

        Assert.That(queued.IsCanceled, Is.True, "cancelled at once, while the worker is still busy");
        gate.SetResult();
        await blocker;
        await executor.ShutdownAsync();
        Assert.That(ran, Is.False);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_CallerTokenCancelledWhileRunning_JobSeesItsTokenCancelled(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        using var cts = new CancellationTokenSource();
        TaskCompletionSource started = NewGate();

        Task<int> task = executor.Submit(
            async ct =>
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, ct);
                return 1;
            },
            cts.Token);
        await started.Task;
        await cts.CancelAsync();

        Assert.ThrowsAsync<TaskCanceledException>(async () => await task);
        Assert.That(task.IsCanceled, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_AlreadyCancelledToken_TaskCanceledAtOnce(CancellationToken cancellationToken)
    {
        await using AsyncExecutor executor = CreateSut();
        bool ran = false;

        Task<int> task = executor.Submit(
            ct =>
            {
                ran = true;
                return Task.FromResult(1);
            },
            new CancellationToken(canceled: true));

        Assert.That(task.IsCanceled, Is.True);
        await executor.ShutdownAsync();
        Assert.That(ran, Is.False);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Submit_AfterShutdown_ThrowsExecutorShutdownException(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut();
        await executor.ShutdownAsync();

        Assert.That(executor.IsShutdown, Is.True);
        Assert.Throws<ExecutorShutdownException>(() => executor.Submit(ct => Task.FromResult(1)));
        Assert.Throws<ExecutorShutdownException>(() => executor.Submit(ct => Task.CompletedTask));
        Assert.Throws<ExecutorShutdownException>(() => executor.MapAsync([1], (int x, CancellationToken ct) => Task.FromResult(x)));
        Assert.Throws<ExecutorShutdownException>(() => executor.MapIterAsync([1], (int x, CancellationToken ct) => Task.FromResult(x)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task ShutdownAsync_WaitTrue_CompletesOnlyAfterRunningAndQueuedJobsFinish(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 1);
        TaskCompletionSource gate = NewGate();
        TaskCompletionSource started = NewGate();

        Task<int> running = executor.Submit(async ct =>
        {
            started.SetResult();
            await gate.Task;
            return 1;
        });
        Task<int> queued = executor.Submit(ct => Task.FromResult(2));
        await started.Task;

        Task shutdown = executor.ShutdownAsync(wait: true);

        Assert.That(shutdown.IsCompleted, Is.False);
        gate.SetResult();
        await shutdown;
        Assert.That(running.Status, Is.EqualTo(TaskStatus.RanToCompletion));
        Assert.That(queued.Status, Is.EqualTo(TaskStatus.RanToCompletion));
        Assert.That(await queued, Is.EqualTo(2));
        Assert.That(executor.Completion.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task ShutdownAsync_WaitFalse_ReturnsAtOnceAndQueuedJobsStillRun(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 1);
        TaskCompletionSource gate = NewGate();

        Task<int> running = executor.Submit(async ct =>
        {
            await gate.Task;
            return 1;
        });
        Task<int> queued = executor.Submit(ct => Task.FromResult(2));

        Task shutdown = executor.ShutdownAsync(wait: false);

        Assert.That(shutdown.IsCompletedSuccessfully, Is.True);
        Assert.That(executor.Completion.IsCompleted, Is.False);
        gate.SetResult();
        Assert.That(await queued, Is.EqualTo(2));
        await executor.Completion;
        Assert.That(await running, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task ShutdownAsync_CancelPending_QueuedJobsCanceledAtOnceAndRunningJobsSignalled(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 2);
        TaskCompletionSource ignoringStarted = NewGate();
        TaskCompletionSource ignoringGate = NewGate();
        TaskCompletionSource observingStarted = NewGate();
        int queuedRan = 0;

        // One running job ignores its token: queued jobs must not wait for it to be cancelled.
        Task<int> ignoring = executor.Submit(async ct =>
        {
            ignoringStarted.SetResult();
            await ignoringGate.Task;
            return 1;
        });
        Task<int> observing = executor.Submit(async ct =>
        {
            observingStarted.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 2;
        });
        Task<int>[] queued = Enumerable.Range(0, 5).Select(i => executor.Submit(ct =>
        {
            Interlocked.Increment(ref queuedRan);
            return Task.FromResult(i);
        })).ToArray();
        await ignoringStarted.Task;
        await observingStarted.Task;

        Task shutdown = executor.ShutdownAsync(wait: true, cancelPending: true);

        Assert.That(queued.Select(t => t.Status), Is.All.EqualTo(TaskStatus.Canceled));
        Assert.ThrowsAsync<TaskCanceledException>(async () => await observing);
        Assert.That(shutdown.IsCompleted, Is.False, "still waiting for the job that ignores its token");
        ignoringGate.SetResult();
        await shutdown;
        Assert.That(await ignoring, Is.EqualTo(1));
        Assert.That(queuedRan, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task ShutdownAsync_CalledAgainWithCancelPending_CancelsWhatIsStillQueued(CancellationToken cancellationToken)
    {
        AsyncExecutor executor = CreateSut(maxWorkers: 1);
        TaskCompletionSource started = NewGate();

        Task<int> running = executor.Submit(async ct =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 1;
        });
        Task<int> queued = executor.Submit(ct => Task.FromResult(2));
        await started.Task;

        Task graceful = executor.ShutdownAsync(wait: true);
        Assert.That(graceful.IsCompleted, Is.False);
        await executor.ShutdownAsync(wait: true, cancelPending: true);
        await graceful;

        Assert.That(queued.IsCanceled, Is.True);
        Assert.That(running.IsCanceled, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task DisposeAsync_WithQueuedJobs_WaitsUntilAllHaveRun(CancellationToken cancellationToken)
    {
        Task<int>[] jobs;
        await using (AsyncExecutor executor = CreateSut(maxWorkers: 2))
        {
            jobs = Enumerable.Range(0, 10).Select(i => executor.Submit(async ct =>
            {
                await Task.Yield();
                return i;
            })).ToArray();
        }

        Assert.That(jobs.Select(j => j.Status), Is.All.EqualTo(TaskStatus.RanToCompletion));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Logging_LoggerFactoryGiven_LogsShutdown(CancellationToken cancellationToken)
    {
        using var provider = new RecordingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(builder => builder
            .AddProvider(provider)
            .SetMinimumLevel(LogLevel.Trace));
        var executor = new AsyncExecutor(new AsyncExecutorOptions { MaxWorkers = 2, LoggerFactory = loggerFactory });

        await executor.ShutdownAsync();

        Assert.That(provider.Entries.Select(e => e.EventName), Is.SupersetOf(new[] { "ExecutorCreated", "ShutdownRequested", "ShutdownCompleted" }));
    }
}
