namespace AntFlow.Dataflow;

/// <summary>
/// One status change as the tracker keeps it: the fields of a <see cref="StatusEvent"/>, stored inline in the item's
/// history. Events are built from records only when someone asks (a query or a subscriber), which keeps a tracked
/// item to one small array instead of an object per event. The id is kept as recorded: ids that compare equal
/// (<c>0</c> and <c>0L</c>) share one tracked item, but each event keeps its own.
/// </summary>
internal readonly record struct StatusRecord(
    object ItemId,
    ItemStatus Status,
    string Stage,
    string? Worker,
    DateTimeOffset Timestamp,
    IReadOnlyDictionary<string, object?> Metadata)
{
    public static StatusRecord From(StatusEvent statusEvent) =>
        new(statusEvent.ItemId, statusEvent.Status, statusEvent.Stage, statusEvent.Worker, statusEvent.Timestamp, statusEvent.Metadata);

    public StatusEvent ToEvent() => new()
    {
        ItemId = ItemId,
        Stage = Stage,
        Status = Status,
        Worker = Worker,
        Timestamp = Timestamp,
        Metadata = Metadata,
    };
}
