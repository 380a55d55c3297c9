using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow;

/// <summary>
/// Offers a bounded block postponed because it was full, at most one per source (a newer offer from
/// the same source replaces the older one, as <c>OfferMessage</c>'s contract expects), taken back
/// most urgent first and FIFO among equal priorities. Not thread-safe: the owner guards it.
/// </summary>
/// <typeparam name="T">The type of the offered messages.</typeparam>
internal sealed class PostponedOffers<T>
{
    private readonly Dictionary<ISourceBlock<T>, Entry> _bySource = new(ReferenceEqualityComparer.Instance);
    private readonly PriorityQueue<ISourceBlock<T>, PriorityKey> _order = new();
    private long _nextArrival = 1;

    /// <summary>Gets the number of postponed offers.</summary>
    public int Count => _bySource.Count;

    /// <summary>Records an offer the owner could not take now.</summary>
    public void Add(ISourceBlock<T> source, DataflowMessageHeader header, int priority)
    {
        if (_bySource.TryGetValue(source, out Entry existing))
        {
            // A source offering the same message again (it restarted its offering) keeps its place.
            if (existing.Header == header)
            {
                return;
            }

            // A different message from the same source supersedes the old offer: that one is no
            // longer available from the source, so it must not be consumed later.
            _order.Remove(source, out _, out _, ReferenceEqualityComparer.Instance);
        }

        _bySource[source] = new Entry(header, priority);
        _order.Enqueue(source, new PriorityKey(priority, _nextArrival++));
    }

    /// <summary>Removes and returns the most urgent postponed offer.</summary>
    public bool TryTakeBest(out ISourceBlock<T> source, out DataflowMessageHeader header, out int priority)
    {
        if (_order.TryDequeue(out ISourceBlock<T>? best, out _))
        {
            _bySource.Remove(best, out Entry entry);
            source = best;
            header = entry.Header;
            priority = entry.Priority;
            return true;
        }

        source = null!;
        header = default;
        priority = 0;
        return false;
    }

    /// <summary>Removes and returns every postponed offer (used when the owner stops accepting).</summary>
    public List<KeyValuePair<ISourceBlock<T>, DataflowMessageHeader>> TakeAll()
    {
        var all = new List<KeyValuePair<ISourceBlock<T>, DataflowMessageHeader>>(_bySource.Count);
        foreach (KeyValuePair<ISourceBlock<T>, Entry> pair in _bySource)
        {
            all.Add(new KeyValuePair<ISourceBlock<T>, DataflowMessageHeader>(pair.Key, pair.Value.Header));
        }

        _bySource.Clear();
        _order.Clear();
        return all;
    }

    private readonly record struct Entry(DataflowMessageHeader Header, int Priority);
}
