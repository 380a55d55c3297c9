namespace AntFlow.Dataflow;

/// <summary>Counts for one stage at one moment.</summary>
public sealed record StageStats
{
    /// <summary>Gets the stage's name.</summary>
    public required string StageName { get; init; }

    /// <summary>Gets how many items wait in the stage's queue (including items waiting for a stage retry).</summary>
    public int PendingItems { get; init; }

    /// <summary>Gets how many items the stage's workers are running.</summary>
    public int InProgressItems { get; init; }

    /// <summary>Gets how many items finished this stage successfully (skips included).</summary>
    public long CompletedItems { get; init; }

    /// <summary>Gets how many items failed for good in this stage.</summary>
    public long FailedItems { get; init; }
}
