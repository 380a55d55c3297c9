namespace AntFlow.Dataflow;

/// <summary>
/// What a <see cref="StatusTracker"/> remembers about one item: its latest event and a bounded history.
/// Every member is protected by locking the instance itself (one lock per item keeps workers on different items apart).
/// </summary>
internal sealed class TrackedItem
{
    private readonly Queue<StatusEvent> _history = new();
    private readonly int _maxHistory;
    private StatusEvent? _latest;

    public TrackedItem(object id, long firstSeen, int maxHistory)
    {
        Id = id;
        FirstSeen = firstSeen;
        _maxHistory = maxHistory;
    }

    /// <summary>Gets the id the item is stored under.</summary>
    public object Id { get; }

    /// <summary>Gets the order in which the tracker first saw the item, used to list items in a stable order.</summary>
    public long FirstSeen { get; }

    /// <summary>Gets the latest event. Written under the lock; queries read it without the lock, hence the volatile access.</summary>
    public StatusEvent? Latest => Volatile.Read(ref _latest);

    /// <summary>Gets a number that changes with every event, so a stale eviction candidate can be recognised.</summary>
    public long Version { get; private set; }

    /// <summary>Gets or sets whether the item has been forgotten; a writer that finds this set must start a new record.</summary>
    public bool Removed { get; set; }

    /// <summary>Gets or sets whether the item counts as finished (see <see cref="StatusTrackerOptions.MaxFinishedItems"/>).</summary>
    public bool Finished { get; set; }

    /// <summary>Records an event as the latest one and returns the status it replaces.</summary>
    public ItemStatus? Append(StatusEvent statusEvent)
    {
        ItemStatus? previous = _latest?.Status;
        if (_history.Count == _maxHistory)
        {
            _history.Dequeue();
        }

        _history.Enqueue(statusEvent);
        Volatile.Write(ref _latest, statusEvent);
        Version++;
        return previous;
    }

    /// <summary>Copies the history, oldest first. Call under the lock.</summary>
    public StatusEvent[] CopyHistory() => _history.ToArray();
}
