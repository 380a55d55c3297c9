namespace AntFlow.Dataflow;

/// <summary>One event in the life of a single task run inside a stage.</summary>
public sealed record TaskEvent
{
    /// <summary>Gets the id of the item the task runs on.</summary>
    public required object ItemId { get; init; }

    /// <summary>Gets the stage the task belongs to.</summary>
    public required string Stage { get; init; }

    /// <summary>Gets the task's name.</summary>
    public required string TaskName { get; init; }

    /// <summary>Gets the worker running the task.</summary>
    public required string Worker { get; init; }

    /// <summary>Gets what happened.</summary>
    public required TaskEventType EventType { get; init; }

    /// <summary>Gets the attempt number, starting at 1.</summary>
    public required int Attempt { get; init; }

    /// <summary>Gets when it happened, from the pipeline's <see cref="TimeProvider"/>.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Gets the exception on <see cref="TaskEventType.Retry"/> and <see cref="TaskEventType.Fail"/>.</summary>
    public Exception? Error { get; init; }

    /// <summary>Gets how long the run took; <see langword="null"/> on <see cref="TaskEventType.Start"/>.</summary>
    public TimeSpan? Duration { get; init; }
}
