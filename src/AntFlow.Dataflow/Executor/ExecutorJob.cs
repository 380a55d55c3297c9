namespace AntFlow.Dataflow;

/// <summary>
/// A unit of work queued in an <see cref="AsyncExecutor"/>. It either starts once or is cancelled before it
/// starts, never both: the two paths race through one compare-and-swap on the state.
/// </summary>
internal abstract class ExecutorJob
{
    private const int Queued = 0;
    private const int Started = 1;
    private const int Cancelled = 2;

    // Changed only through Interlocked.CompareExchange.
    private int _state;

    /// <summary>
    /// Called by a worker when the job reaches the front of the queue. The returned task never faults, so a
    /// failing job can never fault the worker block.
    /// </summary>
    public Task RunAsync(CancellationToken cancelQueuedToken)
    {
        if (cancelQueuedToken.IsCancellationRequested)
        {
            TryCancel(cancelQueuedToken);
            return Task.CompletedTask;
        }

        return Interlocked.CompareExchange(ref _state, Started, Queued) == Queued
            ? ExecuteAsync()
            : Task.CompletedTask;
    }

    /// <summary>Cancels the job if it has not started yet.</summary>
    /// <returns><see langword="true"/> if the job will never run.</returns>
    public bool TryCancel(CancellationToken reason)
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Queued) != Queued)
        {
            return false;
        }

        OnCancelled(reason);
        return true;
    }

    /// <summary>Runs the job. Must not throw: failures go to whoever waits for the job.</summary>
    /// <summary>Takes back a job that will never be queued: true when it had not started nor been cancelled.</summary>
    public bool TryWithdraw() => Interlocked.CompareExchange(ref _state, Cancelled, Queued) == Queued;

    protected abstract Task ExecuteAsync();

    /// <summary>Tells whoever waits for the job that it will never run.</summary>
    protected abstract void OnCancelled(CancellationToken reason);
}
