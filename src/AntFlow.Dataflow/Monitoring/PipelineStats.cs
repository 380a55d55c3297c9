namespace AntFlow.Dataflow;

/// <summary>Pipeline-wide counts at one moment.</summary>
public sealed record PipelineStats
{
    /// <summary>Gets how many items finished the last stage (successes and skips).</summary>
    public long ItemsProcessed { get; init; }

    /// <summary>Gets how many items failed for good, in any stage.</summary>
    public long ItemsFailed { get; init; }

    /// <summary>Gets how many items were cancelled before finishing.</summary>
    public long ItemsCancelled { get; init; }

    /// <summary>Gets how many of <see cref="ItemsProcessed"/> were skipped in at least one stage.</summary>
    public long ItemsSkipped { get; init; }

    /// <summary>Gets how many items entered the pipeline so far.</summary>
    public long ItemsFed { get; init; }

    /// <summary>Gets how many items entered but have not finished (queued, running or waiting to retry).</summary>
    public long ItemsInFlight { get; init; }

    /// <summary>Gets the number of items waiting in each stage's queue, by stage name.</summary>
    public IReadOnlyDictionary<string, int> QueueSizes { get; init; } = new Dictionary<string, int>();

    /// <summary>Gets per-stage counts, by stage name.</summary>
    public IReadOnlyDictionary<string, StageStats> StageStats { get; init; } = new Dictionary<string, StageStats>();
}
