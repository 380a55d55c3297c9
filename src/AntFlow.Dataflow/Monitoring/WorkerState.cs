namespace AntFlow.Dataflow;

/// <summary>What one worker is doing at one moment.</summary>
public sealed record WorkerState
{
    /// <summary>Gets the worker's name, <c>"{Stage}-W{i}"</c>.</summary>
    public required string WorkerName { get; init; }

    /// <summary>Gets the stage the worker belongs to.</summary>
    public required string Stage { get; init; }

    /// <summary>Gets whether the worker is busy.</summary>
    public required WorkerStatus Status { get; init; }

    /// <summary>Gets the id of the item being processed, or <see langword="null"/> when idle.</summary>
    public object? CurrentItemId { get; init; }

    /// <summary>Gets the running task's name, or the text set with <c>WorkerContext.SetTaskStatus</c>.</summary>
    public string? CurrentTask { get; init; }

    /// <summary>Gets when the worker started on the current item, or <see langword="null"/> when idle.</summary>
    public DateTimeOffset? ProcessingSince { get; init; }
}
