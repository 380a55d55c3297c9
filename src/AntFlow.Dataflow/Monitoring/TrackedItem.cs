namespace AntFlow.Dataflow;

/// <summary>
/// What the tracker knows of one item: its newest status records, oldest first, at most the configured number.
/// Every member except the immutable ones is used under a lock on the instance.
/// </summary>
internal sealed class TrackedItem
{
    private const int InitialHistoryCapacity = 4;

    private readonly int _maxHistory;
    private StatusRecord[] _history = []; // a ring: _count records starting at _start, grown up to _maxHistory
    private int _start;
    private int _count;

    public TrackedItem(object id, long firstSeen, int maxHistory)
    {
        Id = id;
        FirstSeen = firstSeen;
        _maxHistory = maxHistory;
    }

    public object Id { get; }

    public long FirstSeen { get; }

    public long Version { get; private set; }

    public bool Removed { get; set; }

    public bool Finished { get; set; }

    /// <summary>Gets the newest record; false before the first one.</summary>
    public bool TryGetLatest(out StatusRecord latest)
    {
        if (_count == 0)
        {
            latest = default;
            return false;
        }

        latest = _history[(_start + _count - 1) % _history.Length];
        return true;
    }

    /// <summary>Adds a record, dropping the oldest when the history is full; returns the status it replaces as the latest.</summary>
    public ItemStatus? Append(in StatusRecord record)
    {
        ItemStatus? previous = TryGetLatest(out StatusRecord latest) ? latest.Status : null;
        if (_count == _history.Length && _count < _maxHistory)
        {
            Grow();
        }

        if (_count == _history.Length)
        {
            // Full at the maximum: the newest record takes the oldest one's place.
            _history[_start] = record;
            _start = (_start + 1) % _history.Length;
        }
        else
        {
            _history[(_start + _count) % _history.Length] = record;
            _count++;
        }

        Version++;
        return previous;
    }

    public StatusEvent[] CopyHistory()
    {
        var events = new StatusEvent[_count];
        for (int i = 0; i < _count; i++)
        {
            events[i] = _history[(_start + i) % _history.Length].ToEvent();
        }

        return events;
    }

    private void Grow()
    {
        var grown = new StatusRecord[Math.Min(Math.Max(_history.Length * 2, InitialHistoryCapacity), _maxHistory)];
        for (int i = 0; i < _count; i++)
        {
            grown[i] = _history[(_start + i) % _history.Length];
        }

        _history = grown;
        _start = 0;
    }
}
