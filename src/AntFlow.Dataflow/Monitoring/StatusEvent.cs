namespace AntFlow.Dataflow;

/// <summary>One change of an item's status, as recorded by a <c>StatusTracker</c>.</summary>
public sealed record StatusEvent
{
    /// <summary>Gets the id of the item (the id selector's value, else the input sequence number as a <see cref="long"/>).</summary>
    public required object ItemId { get; init; }

    /// <summary>Gets the stage the item is in.</summary>
    public required string Stage { get; init; }

    /// <summary>Gets the item's new status.</summary>
    public required ItemStatus Status { get; init; }

    /// <summary>Gets the worker handling the item, or <see langword="null"/> when none is (for example while queued).</summary>
    public string? Worker { get; init; }

    /// <summary>Gets when the change happened, from the pipeline's <see cref="TimeProvider"/>.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>
    /// Gets extra details: <c>"attempt"</c> (the next attempt number) on <see cref="ItemStatus.Retrying"/>;
    /// <c>"error"</c> (the message) and <c>"errorType"</c> on <see cref="ItemStatus.Failed"/>.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Metadata { get; init; } = EmptyMetadata.Instance;
}
