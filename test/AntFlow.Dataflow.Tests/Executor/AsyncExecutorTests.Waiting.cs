using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.Executor;

public sealed partial class AsyncExecutorTests
{
    private static TaskCompletionSource<int>[] NewSources(int count) =>
        Enumerable.Range(0, count).Select(_ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();

    [Test]
    [CancelAfter(10_000)]
    public async Task AsCompleted_TasksCompleteOutOfOrder_YieldsInCompletionOrder(CancellationToken cancellationToken)
    {
        TaskCompletionSource<int>[] sources = NewSources(3);
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();
        await using IAsyncEnumerator<Task<int>> e = AsyncExecutor.AsCompleted(tasks).GetAsyncEnumerator(cancellationToken);

        ValueTask<bool> move = e.MoveNextAsync();
        sources[2].SetResult(2);
        Assert.That(await move, Is.True);
        Assert.That(e.Current, Is.SameAs(tasks[2]));

        move = e.MoveNextAsync();
        sources[0].SetException(new InvalidOperationException());
        Assert.That(await move, Is.True);
        Assert.That(e.Current, Is.SameAs(tasks[0]));

        move = e.MoveNextAsync();
        sources[1].SetCanceled(CancellationToken.None);
        Assert.That(await move, Is.True);
        Assert.That(e.Current, Is.SameAs(tasks[1]));

        Assert.That(await e.MoveNextAsync(), Is.False);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task AsCompleted_SomeAlreadyComplete_YieldsThoseFirstInGivenOrder(CancellationToken cancellationToken)
    {
        TaskCompletionSource<int> pending = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int>[] tasks = [pending.Task, Task.FromResult(1), Task.FromException<int>(new FormatException()), Task.FromResult(3)];
        var order = new List<Task<int>>();

        await foreach (Task<int> task in AsyncExecutor.AsCompleted(tasks).WithCancellation(cancellationToken))
        {
            order.Add(task);
            if (order.Count == 3)
            {
                pending.SetResult(0);
            }
        }

        Assert.That(order, Is.EqualTo(new[] { tasks[1], tasks[2], tasks[3], tasks[0] }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task AsCompleted_DuplicateTasks_YieldsEachOnce(CancellationToken cancellationToken)
    {
        Task<int> task = Task.FromResult(1);
        var order = new List<Task<int>>();

        await foreach (Task<int> t in AsyncExecutor.AsCompleted([task, task, task]).WithCancellation(cancellationToken))
        {
            order.Add(t);
        }

        Assert.That(order, Is.EqualTo(new[] { task }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task AsCompleted_Timeout_IsATotalBudgetNotPerStep(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider();
        TaskCompletionSource<int>[] sources = NewSources(3);
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();
        await using IAsyncEnumerator<Task<int>> e = AsyncExecutor
            .AsCompleted(tasks, TimeSpan.FromSeconds(5), time, CancellationToken.None)
            .GetAsyncEnumerator(cancellationToken);

        ValueTask<bool> move = e.MoveNextAsync();
        time.Advance(TimeSpan.FromSeconds(3));
        sources[1].SetResult(1);
        Assert.That(await move, Is.True);
        Assert.That(e.Current, Is.SameAs(tasks[1]));

        // Three of the five seconds are used up: the next wait ends two seconds later, not five.
        move = e.MoveNextAsync();
        time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.That(move.IsCompleted, Is.False);
        time.Advance(TimeSpan.FromTicks(1));

        var ex = Assert.ThrowsAsync<TimeoutException>(async () => await move);
        Assert.That(ex!.Message, Does.Contain("2 of 3"));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task AsCompleted_CompletedBeforeTheDeadline_StillYieldedAfterIt(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider();

        // Continuations run inside SetResult, so the completion has been observed before time moves on.
        TaskCompletionSource<int>[] sources = [new(), new()];
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();
        await using IAsyncEnumerator<Task<int>> e = AsyncExecutor
            .AsCompleted(tasks, TimeSpan.FromSeconds(1), time, CancellationToken.None)
            .GetAsyncEnumerator(cancellationToken);

        ValueTask<bool> move = e.MoveNextAsync();
        sources[0].SetResult(0);
        Assert.That(await move, Is.True);
        sources[1].SetResult(1);
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.That(await e.MoveNextAsync(), Is.True);
        Assert.That(e.Current, Is.SameAs(tasks[1]));
        Assert.That(await e.MoveNextAsync(), Is.False);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task AsCompleted_CancelledWhileWaiting_ThrowsOperationCanceled(CancellationToken cancellationToken)
    {
        using var cts = new CancellationTokenSource();
        TaskCompletionSource<int>[] sources = NewSources(1);
        await using IAsyncEnumerator<Task<int>> e = AsyncExecutor
            .AsCompleted([sources[0].Task], cancellationToken: cts.Token)
            .GetAsyncEnumerator(cancellationToken);

        ValueTask<bool> move = e.MoveNextAsync();
        Assert.That(move.IsCompleted, Is.False);
        await cts.CancelAsync();

        Assert.CatchAsync<OperationCanceledException>(async () => await move);
    }

    [Test]
    public void AsCompleted_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => AsyncExecutor.AsCompleted<int>(null!));
        Assert.Throws<ArgumentException>(() => AsyncExecutor.AsCompleted<int>([Task.FromResult(1), null!]));
        Assert.Throws<ArgumentOutOfRangeException>(() => AsyncExecutor.AsCompleted([Task.FromResult(1)], TimeSpan.FromSeconds(-2)));
        Assert.Throws<ArgumentNullException>(() => AsyncExecutor.AsCompleted([Task.FromResult(1)], null, null!, CancellationToken.None));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_AllCompleted_ReturnsWhenEveryTaskIsDone(CancellationToken cancellationToken)
    {
        TaskCompletionSource<int>[] sources = NewSources(3);
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();

        var wait = AsyncExecutor.WaitAsync(tasks, cancellationToken: cancellationToken);
        sources[0].SetResult(0);
        sources[1].SetException(new InvalidOperationException());
        Assert.That(wait.IsCompleted, Is.False);
        sources[2].SetResult(2);
        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await wait;

        Assert.That(done, Is.EquivalentTo(tasks));
        Assert.That(pending, Is.Empty);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_FirstCompleted_ReturnsWhenOneTaskIsDone(CancellationToken cancellationToken)
    {
        TaskCompletionSource<int>[] sources = NewSources(3);
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();

        var wait = AsyncExecutor.WaitAsync(tasks, WaitStrategy.FirstCompleted, cancellationToken: cancellationToken);
        Assert.That(wait.IsCompleted, Is.False);
        sources[1].SetResult(1);
        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await wait;

        Assert.That(done, Is.EquivalentTo(new[] { tasks[1] }));
        Assert.That(pending, Is.EquivalentTo(new[] { tasks[0], tasks[2] }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_FirstException_ReturnsWhenOneTaskFaults(CancellationToken cancellationToken)
    {
        TaskCompletionSource<int>[] sources = NewSources(4);
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();

        var wait = AsyncExecutor.WaitAsync(tasks, WaitStrategy.FirstException, cancellationToken: cancellationToken);
        sources[0].SetResult(0);
        sources[1].SetCanceled(CancellationToken.None);
        Assert.That(wait.IsCompleted, Is.False, "successes and cancellations are not exceptions");
        sources[2].SetException(new InvalidOperationException());
        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await wait;

        Assert.That(done, Is.EquivalentTo(tasks[..3]));
        Assert.That(pending, Is.EquivalentTo(new[] { tasks[3] }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_FirstExceptionWithoutFaults_ActsAsAllCompleted(CancellationToken cancellationToken)
    {
        TaskCompletionSource<int>[] sources = NewSources(2);
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();

        var wait = AsyncExecutor.WaitAsync(tasks, WaitStrategy.FirstException, cancellationToken: cancellationToken);
        sources[0].SetResult(0);
        Assert.That(wait.IsCompleted, Is.False);
        sources[1].SetCanceled(CancellationToken.None);
        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await wait;

        Assert.That(done, Is.EquivalentTo(tasks));
        Assert.That(pending, Is.Empty);
    }

    [TestCase(WaitStrategy.FirstCompleted)]
    [TestCase(WaitStrategy.FirstException)]
    [TestCase(WaitStrategy.AllCompleted)]
    public void WaitAsync_AlreadySatisfied_CompletesSynchronously(WaitStrategy strategy)
    {
        Task<int> pendingTask = new TaskCompletionSource<int>().Task;
        Task<int>[] tasks = strategy == WaitStrategy.AllCompleted
            ? [Task.FromResult(1), Task.FromResult(2)]
            : [Task.FromException<int>(new FormatException()), pendingTask];

        var wait = AsyncExecutor.WaitAsync(tasks, strategy);

        Assert.That(wait.IsCompletedSuccessfully, Is.True);
        Assert.That(wait.GetAwaiter().GetResult().Done, Is.EquivalentTo(new[] { tasks[0] }.Concat(strategy == WaitStrategy.AllCompleted ? [tasks[1]] : [])));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_Timeout_ReturnsTheSetsAsTheyAre(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider();
        TaskCompletionSource<int>[] sources = NewSources(3);
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();

        var wait = AsyncExecutor.WaitAsync(tasks, WaitStrategy.AllCompleted, TimeSpan.FromSeconds(5), time, cancellationToken);
        sources[0].SetResult(0);
        time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.That(wait.IsCompleted, Is.False);
        time.Advance(TimeSpan.FromTicks(1));
        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await wait;

        Assert.That(done, Is.EquivalentTo(new[] { tasks[0] }));
        Assert.That(pending, Is.EquivalentTo(new[] { tasks[1], tasks[2] }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_FirstCompletedWithTimeout_ReturnsEmptyDoneSetWhenNothingCompletes(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider();
        TaskCompletionSource<int>[] sources = NewSources(2);
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();

        var wait = AsyncExecutor.WaitAsync(tasks, WaitStrategy.FirstCompleted, TimeSpan.FromMilliseconds(100), time, cancellationToken);
        time.Advance(TimeSpan.FromMilliseconds(100));
        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await wait;

        Assert.That(done, Is.Empty);
        Assert.That(pending, Is.EquivalentTo(tasks));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_Cancelled_ThrowsOperationCanceled(CancellationToken cancellationToken)
    {
        using var cts = new CancellationTokenSource();
        TaskCompletionSource<int>[] sources = NewSources(1);

        var wait = AsyncExecutor.WaitAsync([sources[0].Task], cancellationToken: cts.Token);
        await cts.CancelAsync();

        Assert.CatchAsync<OperationCanceledException>(() => wait);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_NoTasks_ReturnsEmptySets(CancellationToken cancellationToken)
    {
        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await AsyncExecutor.WaitAsync(Array.Empty<Task<int>>());

        Assert.That(done, Is.Empty);
        Assert.That(pending, Is.Empty);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WaitAsync_ManyTasks_CompletesAfterTheLast(CancellationToken cancellationToken)
    {
        TaskCompletionSource<int>[] sources = NewSources(20_000);
        Task<int>[] tasks = sources.Select(s => s.Task).ToArray();

        var wait = AsyncExecutor.WaitAsync(tasks, cancellationToken: cancellationToken);
        for (int i = sources.Length - 1; i >= 0; i--)
        {
            sources[i].SetResult(i);
        }

        (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await wait;
        Assert.That(done, Has.Count.EqualTo(20_000));
        Assert.That(pending, Is.Empty);
    }

    [Test]
    public void WaitAsync_InvalidArguments_Throw()
    {
        Task<int>[] tasks = [Task.FromResult(1)];

        Assert.Throws<ArgumentNullException>(() => AsyncExecutor.WaitAsync<int>(null!));
        Assert.Throws<ArgumentException>(() => AsyncExecutor.WaitAsync<int>([null!]));
        Assert.Throws<ArgumentOutOfRangeException>(() => AsyncExecutor.WaitAsync(tasks, (WaitStrategy)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => AsyncExecutor.WaitAsync(tasks, timeout: TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentNullException>(() => AsyncExecutor.WaitAsync(tasks, WaitStrategy.AllCompleted, null, null!, CancellationToken.None));
    }
}
