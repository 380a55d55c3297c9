using AntFlow.Dataflow.Execution;

namespace AntFlow.Dataflow;

/// <summary>Lets code running inside a pipeline task describe what it is doing, for dashboards.</summary>
public static class WorkerContext
{
    private static readonly AsyncLocal<Scope?> CurrentScope = new();

    internal static Scope? Current => CurrentScope.Value;

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
    /// Makes <paramref name="scope"/> current on this thread and for everything that flows from here. The caller gives
    /// the thread its context back when the item is done: an async method does so when it returns, a synchronous one
    /// restores what it captured (<see cref="ExecutionContext.Restore"/>).
    /// </summary>
    internal static void Enter(Scope scope)
    {
        // Setting an AsyncLocal copies the execution context (two objects per set). A worker runs item after item on
        // the same base context, so the scope keeps the context it made last time and switches to it while the base
        // is unchanged. Only the worker holding the scope's slot gets here, so the cache needs no synchronization.
        ExecutionContext? current = ExecutionContext.Capture();
        if (current is not null && ReferenceEquals(current, scope.BaseContext) && scope.ContextWithScope is { } cached)
        {
            ExecutionContext.Restore(cached);
            return;
        }

        CurrentScope.Value = scope;
        if (current is not null)
        {
            // A suppressed flow (null) is not cached: there is no context to switch back to.
            scope.BaseContext = current;
            scope.ContextWithScope = ExecutionContext.Capture();
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
