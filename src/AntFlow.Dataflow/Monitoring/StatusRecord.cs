namespace AntFlow.Dataflow;

/// <summary>
/// One status change as the tracker keeps it: a <see cref="StatusEvent"/> without the item id, stored inline in the
/// item's history. Events are built from records only when someone asks (a query or a subscriber), which keeps a
/// tracked item to one small array instead of an object per event.
/// </summary>
internal readonly record struct StatusRecord(
    ItemStatus Status,
    string Stage,
    string? Worker,
    DateTimeOffset Timestamp,
    IReadOnlyDictionary<string, object?> Metadata)
{
    public static StatusRecord From(StatusEvent statusEvent) =>
        new(statusEvent.Status, statusEvent.Stage, statusEvent.Worker, statusEvent.Timestamp, statusEvent.Metadata);

    public StatusEvent ToEvent(object itemId) => new()
    {
        ItemId = itemId,
        Stage = Stage,
        Status = Status,
        Worker = Worker,
        Timestamp = Timestamp,
        Metadata = Metadata,
    };
}
