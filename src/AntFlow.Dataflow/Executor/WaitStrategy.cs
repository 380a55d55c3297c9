namespace AntFlow.Dataflow;

/// <summary>
/// When <see cref="AsyncExecutor.WaitAsync{T}(IEnumerable{Task{T}}, WaitStrategy, TimeSpan?, CancellationToken)"/>
/// returns, like the <c>return_when</c> argument of Python's <c>concurrent.futures.wait</c>.
/// </summary>
public enum WaitStrategy
{
    /// <summary>Return as soon as any task has completed (successfully, faulted or canceled).</summary>
    FirstCompleted,

    /// <summary>
    /// Return as soon as any task has faulted; if none faults, this is the same as <see cref="AllCompleted"/>.
    /// A canceled task does not count as an exception.
    /// </summary>
    FirstException,

    /// <summary>Return when every task has completed.</summary>
    AllCompleted,
}
