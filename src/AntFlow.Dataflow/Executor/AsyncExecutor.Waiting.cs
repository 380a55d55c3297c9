using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AntFlow.Dataflow.Execution;

namespace AntFlow.Dataflow;

/// <content>Waiting for tasks, like Python's <c>concurrent.futures.as_completed</c> and <c>wait</c>.</content>
public sealed partial class AsyncExecutor
{
    /// <summary>
    /// Yields the tasks as they complete (successfully, faulted or canceled), like Python's
    /// <c>concurrent.futures.as_completed</c>. Tasks already complete come first, in the given order; each
    /// distinct task is yielded once.
    /// </summary>
    /// <remarks>
    /// Every task gets one continuation that feeds a queue, so waiting for <c>n</c> tasks costs O(n) overall.
    /// The timeout is a total budget for the whole enumeration, measured from its start; it is not reset by
    /// each completion. Completions already observed when the budget runs out are still yielded before the
    /// <see cref="TimeoutException"/>.
    /// </remarks>
    /// <typeparam name="T">The type of the tasks' results.</typeparam>
    /// <param name="tasks">The tasks to wait for. They are read at once.</param>
    /// <param name="timeout">
    /// How long the enumeration may wait in all, or <see langword="null"/> (or <see cref="Timeout.InfiniteTimeSpan"/>, or
    /// anything longer than timers allow, about 49.7 days) to wait as long as it takes.
    /// </param>
    /// <param name="cancellationToken">Stops waiting; the enumeration then throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The tasks, in completion order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="tasks"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="tasks"/> contains <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than infinite).</exception>
    /// <exception cref="TimeoutException">Thrown by the enumeration when it would have to wait beyond the timeout.</exception>
    [SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "The contract fixes this signature; the overload that takes a TimeProvider (for tests) keeps every parameter required so calls never become ambiguous.")]
    public static IAsyncEnumerable<Task<T>> AsCompleted<T>(
        IEnumerable<Task<T>> tasks,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        AsCompleted(tasks, timeout, TimeProvider.System, cancellationToken);

    /// <inheritdoc cref="AsCompleted{T}(IEnumerable{Task{T}}, TimeSpan?, CancellationToken)"/>
    /// <param name="tasks">The tasks to wait for. They are read at once.</param>
    /// <param name="timeout">
    /// How long the enumeration may wait in all, or <see langword="null"/> (or <see cref="Timeout.InfiniteTimeSpan"/>, or
    /// anything longer than timers allow, about 49.7 days) to wait as long as it takes.
    /// </param>
    /// <param name="timeProvider">The clock that measures <paramref name="timeout"/>.</param>
    /// <param name="cancellationToken">Stops waiting; the enumeration then throws <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tasks"/> or <paramref name="timeProvider"/> is <see langword="null"/>.</exception>
    public static IAsyncEnumerable<Task<T>> AsCompleted<T>(
        IEnumerable<Task<T>> tasks,
        TimeSpan? timeout,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(timeProvider);
        timeout = ValidateTimeout(timeout);

        HashSet<Task<T>> seen = [];
        List<Task<T>> distinct = [];
        foreach (Task<T> task in tasks)
        {
            if (task is null)
            {
                throw new ArgumentException("The tasks must not contain null.", nameof(tasks));
            }

            if (seen.Add(task))
            {
                distinct.Add(task);
            }
        }

        return AsCompletedCoreAsync(distinct, timeout, timeProvider, cancellationToken);
    }

    /// <summary>
    /// Waits until the tasks meet <paramref name="strategy"/> or <paramref name="timeout"/> expires, and returns which
    /// tasks are done and which are still pending, like Python's <c>concurrent.futures.wait</c>.
    /// </summary>
    /// <remarks>
    /// The timeout does not throw: the sets are returned as they are when it expires. Every task gets one
    /// continuation, so waiting for <c>n</c> tasks costs O(n) overall. Duplicate tasks count once.
    /// </remarks>
    /// <typeparam name="T">The type of the tasks' results.</typeparam>
    /// <param name="tasks">The tasks to wait for.</param>
    /// <param name="strategy">When to return.</param>
    /// <param name="timeout">
    /// How long to wait at most, or <see langword="null"/> (or <see cref="Timeout.InfiniteTimeSpan"/>, or anything longer
    /// than timers allow, about 49.7 days) to wait as long as it takes.
    /// </param>
    /// <param name="cancellationToken">Stops waiting; the returned task then ends canceled.</param>
    /// <returns>
    /// The tasks that were complete (successfully, faulted or canceled) when the wait ended, and the others.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="tasks"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="tasks"/> contains <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="timeout"/> is negative (other than infinite), or <paramref name="strategy"/> is not defined.
    /// </exception>
    [SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "The contract fixes this signature; the overload that takes a TimeProvider (for tests) keeps every parameter required so calls never become ambiguous.")]
    public static Task<(IReadOnlySet<Task<T>> Done, IReadOnlySet<Task<T>> Pending)> WaitAsync<T>(
        IEnumerable<Task<T>> tasks,
        WaitStrategy strategy = WaitStrategy.AllCompleted,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        WaitAsync(tasks, strategy, timeout, TimeProvider.System, cancellationToken);

    /// <inheritdoc cref="WaitAsync{T}(IEnumerable{Task{T}}, WaitStrategy, TimeSpan?, CancellationToken)"/>
    /// <param name="tasks">The tasks to wait for.</param>
    /// <param name="strategy">When to return.</param>
    /// <param name="timeout">
    /// How long to wait at most, or <see langword="null"/> (or <see cref="Timeout.InfiniteTimeSpan"/>, or anything longer
    /// than timers allow, about 49.7 days) to wait as long as it takes.
    /// </param>
    /// <param name="timeProvider">The clock that measures <paramref name="timeout"/>.</param>
    /// <param name="cancellationToken">Stops waiting; the returned task then ends canceled.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tasks"/> or <paramref name="timeProvider"/> is <see langword="null"/>.</exception>
    public static Task<(IReadOnlySet<Task<T>> Done, IReadOnlySet<Task<T>> Pending)> WaitAsync<T>(
        IEnumerable<Task<T>> tasks,
        WaitStrategy strategy,
        TimeSpan? timeout,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (!Enum.IsDefined(strategy))
        {
            throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown wait strategy.");
        }

        timeout = ValidateTimeout(timeout);

        var all = new HashSet<Task<T>>();
        var pending = new List<Task<T>>();
        bool satisfied = false;
        foreach (Task<T> task in tasks)
        {
            if (task is null)
            {
                throw new ArgumentException("The tasks must not contain null.", nameof(tasks));
            }

            if (!all.Add(task))
            {
                continue;
            }

            if (!task.IsCompleted)
            {
                pending.Add(task);
            }
            else if (strategy == WaitStrategy.FirstCompleted || (strategy == WaitStrategy.FirstException && task.IsFaulted))
            {
                satisfied = true;
            }
        }

        if (satisfied || pending.Count == 0)
        {
            return Task.FromResult(Partition(all));
        }

        return WaitCoreAsync(all, pending, strategy, timeout, timeProvider, cancellationToken);
    }

    /// <summary>Rejects a negative timeout; one longer than timers allow (about 49.7 days) means no timeout.</summary>
    private static TimeSpan? ValidateTimeout(TimeSpan? timeout)
    {
        if (timeout is { } value && value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), value, "The timeout must not be negative (except Timeout.InfiniteTimeSpan).");
        }

        return timeout > TimerLimits.Longest ? null : timeout;
    }

    private static (IReadOnlySet<Task<T>> Done, IReadOnlySet<Task<T>> Pending) Partition<T>(HashSet<Task<T>> all)
    {
        var done = new HashSet<Task<T>>();
        var pending = new HashSet<Task<T>>();
        foreach (Task<T> task in all)
        {
            (task.IsCompleted ? done : pending).Add(task);
        }

        return (done, pending);
    }

    private static async Task<(IReadOnlySet<Task<T>> Done, IReadOnlySet<Task<T>> Pending)> WaitCoreAsync<T>(
        HashSet<Task<T>> all,
        List<Task<T>> pending,
        WaitStrategy strategy,
        TimeSpan? timeout,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var waiter = new CompletionWaiter(strategy, pending.Count);

        // Cancelled when the wait ends, which removes the continuations from tasks still pending: a caller waiting
        // again and again on a slow task (the FIRST_COMPLETED loop) must not pile up continuations on it.
        using var detach = new CancellationTokenSource();
        foreach (Task<T> task in pending)
        {
            _ = task.ContinueWith(
                static (t, state) => ((CompletionWaiter)state!).OnCompleted(t),
                waiter,
                detach.Token,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        try
        {
            await waiter.Signal.WaitAsync(timeout ?? Timeout.InfiniteTimeSpan, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Like concurrent.futures.wait: a timeout is not an error, the caller looks at what is still pending.
        }
        finally
        {
            await detach.CancelAsync().ConfigureAwait(false);
        }

        return Partition(all);
    }

    private static async IAsyncEnumerable<Task<T>> AsCompletedCoreAsync<T>(
        List<Task<T>> tasks,
        TimeSpan? timeout,
        TimeProvider timeProvider,
        CancellationToken cancellationToken,
        [EnumeratorCancellation] CancellationToken enumeratorToken = default)
    {
        using CancellationTokenSource? deadline = timeout is { } budget && budget != Timeout.InfiniteTimeSpan
            ? new CancellationTokenSource(budget, timeProvider)
            : null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(
            cancellationToken, enumeratorToken, deadline?.Token ?? CancellationToken.None);

        var completed = Channel.CreateUnbounded<Task<T>>(new UnboundedChannelOptions { SingleReader = true });

        // Cancelled when the enumeration ends (done, broken off, timed out or cancelled), which removes the
        // continuations from the tasks still pending.
        using var detach = new CancellationTokenSource();
        foreach (Task<T> task in tasks)
        {
            // Runs at once for a task that is already complete, so those come first and in the given order.
            _ = task.ContinueWith(
                static (t, state) => ((ChannelWriter<Task<T>>)state!).TryWrite(t),
                completed.Writer,
                detach.Token,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        try
        {

            for (int yielded = 0; yielded < tasks.Count; yielded++)
            {
                if (!completed.Reader.TryRead(out Task<T>? next))
                {
                    try
                    {
                        next = await completed.Reader.ReadAsync(stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (deadline is { IsCancellationRequested: true }
                        && !cancellationToken.IsCancellationRequested && !enumeratorToken.IsCancellationRequested)
                    {
                        throw new TimeoutException(
                            $"{tasks.Count - yielded} of {tasks.Count} tasks did not complete within {timeout}.");
                    }
                }

                yield return next;
            }
        }
        finally
        {
            await detach.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Completes <see cref="Signal"/> once the completions seen so far satisfy the wait strategy.</summary>
    private sealed class CompletionWaiter(WaitStrategy strategy, int pending)
    {
        private readonly TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _pending = pending; // Interlocked

        public Task Signal => _signal.Task;

        public void OnCompleted(Task task)
        {
            bool last = Interlocked.Decrement(ref _pending) == 0;
            if (last
                || strategy == WaitStrategy.FirstCompleted
                || (strategy == WaitStrategy.FirstException && task.IsFaulted))
            {
                _signal.TrySetResult();
            }
        }
    }
}
