using AntFlow.Dataflow.Execution;

namespace AntFlow.Dataflow;

/// <summary>Lets code running inside a pipeline task describe what it is doing, for dashboards.</summary>
public static class WorkerContext
{
    private static readonly AsyncLocal<Scope?> CurrentScope = new();

    // Set only while a stage whose tasks are all synchronous runs them on this thread: such code cannot await, so a
    // thread-static is enough and costs nothing, where an AsyncLocal copies the execution context on every set.
    [ThreadStatic]
    private static Scope? t_synchronousScope;

    internal static Scope? Current
    {
        get => t_synchronousScope ?? CurrentScope.Value;
        set => CurrentScope.Value = value;
    }

    /// <summary>Gets the name of the worker running the current code, or <see langword="null"/> outside a pipeline task.</summary>
    public static string? WorkerName => Current?.Slot.Name;

    /// <summary>
    /// Shows <paramref name="status"/> as the current worker's <see cref="WorkerState.CurrentTask"/> until the next task
    /// starts (for example <c>"polling batch 3/10"</c>).
    /// </summary>
    /// <param name="status">The text to show.</param>
    /// <param name="minInterval">Ignore the call when the previous accepted update is more recent than this (rate limit for chatty loops).</param>
    /// <returns><see langword="false"/> outside a pipeline worker, or when rate-limited.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="status"/> is null.</exception>
    public static bool SetTaskStatus(string status, TimeSpan? minInterval = null)
    {
        ArgumentNullException.ThrowIfNull(status);
        Scope? scope = Current;
        return scope is not null && scope.Slot.TrySetStatus(status, minInterval, scope.TimeProvider);
    }

    /// <summary>
    /// Makes <paramref name="scope"/> current for code that the caller runs next on this thread, and for its async
    /// continuations unless <paramref name="synchronousOnly"/>. Pass the result to <see cref="Exit"/> afterwards.
    /// </summary>
    internal static ExecutionContext? Enter(Scope scope, bool synchronousOnly)
    {
        if (synchronousOnly)
        {
            t_synchronousScope = scope;
            return null;
        }

        // Setting an AsyncLocal copies the execution context (two objects per set). A worker runs item after item on
        // the same base context, so the scope keeps the context it made last time and switches to it when the base
        // is unchanged. Only the worker holding the scope's slot gets here, so the cache needs no synchronization.
        ExecutionContext? current = ExecutionContext.Capture();
        if (current is not null && ReferenceEquals(current, scope.BaseContext) && scope.ContextWithScope is { } cached)
        {
            ExecutionContext.Restore(cached);
            return current;
        }

        CurrentScope.Value = scope;
        if (current is not null)
        {
            scope.BaseContext = current;
            scope.ContextWithScope = ExecutionContext.Capture();
        }

        return current;
    }

    /// <summary>Undoes <see cref="Enter"/>, given what it returned.</summary>
    internal static void Exit(ExecutionContext? previous, bool synchronousOnly)
    {
        if (synchronousOnly)
        {
            t_synchronousScope = null;
        }
        else if (previous is not null)
        {
            ExecutionContext.Restore(previous);
        }
        else
        {
            // The flow was suppressed when the scope was entered: nothing was captured, so clear the value itself.
            CurrentScope.Value = null;
        }
    }

    /// <summary>The worker and clock of the code running now.</summary>
    internal sealed class Scope(WorkerSlot slot, TimeProvider timeProvider)
    {
        public WorkerSlot Slot { get; } = slot;

        public TimeProvider TimeProvider { get; } = timeProvider;

        /// <summary>The context <see cref="Enter"/> last found on the thread; written only by the slot's worker.</summary>
        public ExecutionContext? BaseContext { get; set; }

        /// <summary><see cref="BaseContext"/> with this scope set.</summary>
        public ExecutionContext? ContextWithScope { get; set; }
    }
}
