namespace AntFlow.Dataflow;

/// <summary>How one worker has performed so far.</summary>
public sealed record WorkerMetrics
{
    /// <summary>Gets the worker's name, <c>"{Stage}-W{i}"</c>.</summary>
    public required string WorkerName { get; init; }

    /// <summary>Gets the stage the worker belongs to.</summary>
    public required string Stage { get; init; }

    /// <summary>Gets how many items the worker finished successfully (or skipped).</summary>
    public long ItemsProcessed { get; init; }

    /// <summary>Gets how many items failed on this worker (final failures and attempts that were retried in the stage queue).</summary>
    public long ItemsFailed { get; init; }

    /// <summary>Gets the total time the worker spent on items.</summary>
    public TimeSpan TotalProcessingTime { get; init; }

    /// <summary>Gets when the worker last finished an item, or <see langword="null"/> if it has not yet.</summary>
    public DateTimeOffset? LastActive { get; init; }

    /// <summary>Gets the mean time per handled item (processed or failed); zero before the first.</summary>
    public TimeSpan AverageProcessingTime
    {
        get
        {
            long handled = ItemsProcessed + ItemsFailed;
            return handled == 0 ? TimeSpan.Zero : TotalProcessingTime / handled;
        }
    }
}
