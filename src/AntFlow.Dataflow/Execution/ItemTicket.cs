namespace AntFlow.Dataflow.Execution;

/// <summary>
/// What stays the same for an item from the moment it enters the pipeline. There is one per item, shared by the
/// envelopes that carry it from stage to stage, so that an envelope stays small: every Dataflow hop copies it many times.
/// </summary>
internal sealed class ItemTicket
{
    private object? _id;

    /// <param name="id">The id the selector returned, or null when the id is the sequence number.</param>
    /// <param name="sequence">The item's input position.</param>
    /// <param name="priority">Its priority: lower values are served first.</param>
    /// <param name="injected">Whether it was fed into a stage by name rather than through the pipeline input.</param>
    public ItemTicket(object? id, long sequence, int priority, bool injected)
    {
        _id = id;
        Sequence = sequence;
        Priority = priority;
        Injected = injected;
    }

    /// <summary>
    /// The item's id: what the id selector returned, else the sequence number. A default id is boxed the first time
    /// something asks for it, and only once: most items run through stages that never do.
    /// </summary>
    public object Id => Volatile.Read(ref _id) ?? Interlocked.CompareExchange(ref _id, Sequence, null) ?? _id!;

    public long Sequence { get; }

    public int Priority { get; }

    /// <summary>Fed into a stage by name rather than through the pipeline input: its id is not the caller's, so checkpoints ignore it.</summary>
    public bool Injected { get; }
}
