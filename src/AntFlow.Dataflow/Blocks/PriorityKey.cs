namespace AntFlow.Dataflow;

/// <summary>
/// Orders buffered items: lower <see cref="Priority"/> first, then lower <see cref="Sequence"/>
/// (arrival order), so equal priorities stay FIFO and no two keys compare equal.
/// </summary>
internal readonly struct PriorityKey : IComparable<PriorityKey>
{
    public PriorityKey(int priority, long sequence)
    {
        Priority = priority;
        Sequence = sequence;
    }

    /// <summary>Gets the priority returned by the selector; lower is served first.</summary>
    public int Priority { get; }

    /// <summary>Gets the arrival number; unique within one block, so it doubles as the message id.</summary>
    public long Sequence { get; }

    public int CompareTo(PriorityKey other)
    {
        int byPriority = Priority.CompareTo(other.Priority);
        return byPriority != 0 ? byPriority : Sequence.CompareTo(other.Sequence);
    }
}
