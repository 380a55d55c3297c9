namespace AntFlow.Dataflow;

/// <summary>Where an item is in its life through a pipeline.</summary>
public enum ItemStatus
{
    /// <summary>Waiting in a stage's queue.</summary>
    Queued,

    /// <summary>A worker is running the item's tasks.</summary>
    InProgress,

    /// <summary>The item failed and waits for another attempt.</summary>
    Retrying,

    /// <summary>The item finished a stage successfully.</summary>
    Completed,

    /// <summary>The item failed for good.</summary>
    Failed,

    /// <summary>The item was skipped by a skip predicate or a checkpoint.</summary>
    Skipped,

    /// <summary>The item was cancelled before it finished.</summary>
    Cancelled,
}
