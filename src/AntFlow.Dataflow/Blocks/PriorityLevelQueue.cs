using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace AntFlow.Dataflow;

/// <summary>
/// Items ordered by <see cref="PriorityKey"/> (priority, then sequence): a FIFO ring per priority level and a
/// <see cref="PriorityQueue{TElement, TPriority}"/> over the levels that hold items. Adding or removing costs
/// O(log k) for k distinct priorities waiting (k ≤ n, and small in practice) instead of O(log n) comparisons of
/// the full key: with a large backlog this is what keeps the buffer's throughput close to a FIFO queue.
/// Not thread-safe: the owner guards it.
/// </summary>
/// <typeparam name="T">The type of the items.</typeparam>
internal sealed class PriorityLevelQueue<T>
{
    // Empty levels stay in the table for reuse, so a level that drains and refills costs nothing; beyond this
    // many, an emptied level leaves the table for a small spare pool, so that ever-new priority values (one
    // per item, say) neither grow the table forever nor allocate a level per item.
    private const int MaxIdleLevels = 32;

    // A spare level whose ring grew beyond this is not kept, so one burst does not pin a large array.
    private const int MaxSpareRingLength = 1024;

    private readonly Dictionary<int, Level> _levels = [];
    private readonly Stack<Level> _spare = new();
    private readonly PriorityQueue<Level, int> _activeLevels = new();
    private Level? _best;
    private int _count;

    /// <summary>Gets the number of items.</summary>
    public int Count => _count;

    /// <summary>Adds an item; its sequence number keeps it FIFO among items of the same priority.</summary>
    public void Enqueue(T item, PriorityKey key)
    {
        if (!_levels.TryGetValue(key.Priority, out Level? level))
        {
            if (_spare.TryPop(out level))
            {
                level.Priority = key.Priority;
            }
            else
            {
                level = new Level(key.Priority);
            }

            _levels.Add(key.Priority, level);
        }

        if (level.Count == 0)
        {
            _activeLevels.Enqueue(level, key.Priority);
            if (_best is null || key.Priority < _best.Priority)
            {
                _best = level;
            }
        }

        level.Insert(item, key.Sequence);
        _count++;
    }

    /// <summary>Returns the best item without removing it.</summary>
    public bool TryPeek([MaybeNullWhen(false)] out T item, out PriorityKey key)
    {
        if (_best is null)
        {
            item = default;
            key = default;
            return false;
        }

        item = _best.PeekFirst(out long sequence);
        key = new PriorityKey(_best.Priority, sequence);
        return true;
    }

    /// <summary>Removes and returns the best item.</summary>
    public bool TryDequeue([MaybeNullWhen(false)] out T item, out PriorityKey key)
    {
        if (_best is null)
        {
            item = default;
            key = default;
            return false;
        }

        Level level = _best;
        item = level.RemoveFirst(out long sequence);
        key = new PriorityKey(level.Priority, sequence);
        _count--;
        if (level.Count == 0)
        {
            _activeLevels.Dequeue();
            _best = _activeLevels.TryPeek(out Level? next, out _) ? next : null;
            if (_levels.Count - _activeLevels.Count > MaxIdleLevels)
            {
                _levels.Remove(level.Priority);
                if (_spare.Count < MaxIdleLevels && level.RingLength <= MaxSpareRingLength)
                {
                    _spare.Push(level);
                }
            }
        }

        return true;
    }

    /// <summary>Removes and returns the best item; the queue must not be empty.</summary>
    public T Dequeue()
    {
        bool found = TryDequeue(out T? item, out _);
        Debug.Assert(found, "Dequeue on an empty queue.");
        return item!;
    }

    /// <summary>Removes every item.</summary>
    public void Clear()
    {
        _levels.Clear();
        _activeLevels.Clear();
        _best = null;
        _count = 0;
    }

    /// <summary>The items of one priority, sorted by sequence, in a growable ring.</summary>
    private sealed class Level(int priority)
    {
        private Entry[] _ring = new Entry[1];
        private int _head;

        public int Priority { get; set; } = priority;

        public int RingLength => _ring.Length;

        public int Count { get; private set; }

        public T PeekFirst(out long sequence)
        {
            Debug.Assert(Count > 0);
            ref Entry first = ref _ring[_head];
            sequence = first.Sequence;
            return first.Item;
        }

        public T RemoveFirst(out long sequence)
        {
            Debug.Assert(Count > 0);
            ref Entry first = ref _ring[_head];
            T item = first.Item;
            sequence = first.Sequence;
            if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            {
                first = default; // let the item be collected
            }

            _head = (_head + 1) & (_ring.Length - 1);
            Count--;
            return item;
        }

        /// <summary>Inserts in sequence order. Arrivals come in order and append; a released reservation
        /// prepends; only an item whose sequence was claimed before a slower consumption lands in between.</summary>
        public void Insert(T item, long sequence)
        {
            if (Count == _ring.Length)
            {
                Grow();
            }

            int mask = _ring.Length - 1;
            int position = Count;
            while (position > 0 && _ring[(_head + position - 1) & mask].Sequence > sequence)
            {
                position--;
            }

            if (position == 0 && Count > 0)
            {
                _head = (_head - 1) & mask;
            }
            else
            {
                for (int i = Count; i > position; i--)
                {
                    _ring[(_head + i) & mask] = _ring[(_head + i - 1) & mask];
                }
            }

            _ring[(_head + position) & mask] = new Entry(item, sequence);
            Count++;
        }

        private void Grow()
        {
            var larger = new Entry[_ring.Length * 2];
            for (int i = 0; i < Count; i++)
            {
                larger[i] = _ring[(_head + i) & (_ring.Length - 1)];
            }

            _ring = larger;
            _head = 0;
        }

        private readonly record struct Entry(T Item, long Sequence);
    }
}
