using System.Diagnostics;

namespace AntFlow.Dataflow.Execution;

/// <summary>
/// What moves between blocks: the user's value, the item's <see cref="ItemTicket"/>, and its attempt counts.
/// A small struct, so that moving an item from stage to stage allocates nothing and copies little
/// (16 bytes for an <c>int</c> value, 24 for a reference).
/// </summary>
/// <typeparam name="T">The value's type at this point of the pipeline.</typeparam>
internal readonly struct Envelope<T>
{
    /// <summary>The most attempts a stage may allow: attempt counts are packed in 15 bits each.</summary>
    public const int MaxAttempts = 10_000;

    private const int AttemptMask = 0x7FFF;
    private const int MaxAttemptShift = 15;
    private const int SkippedFlag = 1 << 30;

    // The attempt in this stage (bits 0-14), the highest attempt in any stage (bits 15-29), skipped in some stage (bit 30).
    private readonly int _attempts;

    public Envelope(ItemTicket ticket, int attempt, int maxAttempt, bool skipped, T value)
    {
        Debug.Assert(attempt is >= 1 and <= MaxAttempts && maxAttempt is >= 1 and <= MaxAttempts, "Build() bounds attempts.");
        Ticket = ticket;
        _attempts = attempt | (maxAttempt << MaxAttemptShift) | (skipped ? SkippedFlag : 0);
        Value = value;
    }

    /// <summary>What stays the same for the item; null marks <c>default</c>, "no output".</summary>
    public ItemTicket Ticket { get; }

    /// <summary>The item's id (boxed on first use when it is the sequence number; see <see cref="ItemTicket.Id"/>).</summary>
    public object Id => Ticket.Id;

    public long Sequence => Ticket.Sequence;

    public int Priority => Ticket.Priority;

    /// <summary>The attempt number in the current stage, from 1.</summary>
    public int Attempt => _attempts & AttemptMask;

    /// <summary>The highest attempt number reached in any stage so far.</summary>
    public int MaxAttempt => (_attempts >> MaxAttemptShift) & AttemptMask;

    /// <summary>Whether the item was skipped in some stage.</summary>
    public bool Skipped => (_attempts & SkippedFlag) != 0;

    public T Value { get; }

    /// <summary>Fed into a stage by name rather than through the pipeline input: its id is not the caller's, so checkpoints ignore it.</summary>
    public bool Injected => Ticket.Injected;

    /// <summary>True for <c>default</c>: a stage produced nothing to pass on (the item went to the results another way).</summary>
    public bool IsEmpty => Ticket is null;

    public Envelope<TNext> Next<TNext>(TNext value, int maxAttempt, bool skipped) =>
        new(Ticket, attempt: 1, maxAttempt, skipped, value);

    public Envelope<T> Retry() =>
        new(Ticket, Attempt + 1, Math.Max(MaxAttempt, Attempt + 1), Skipped, Value);
}
