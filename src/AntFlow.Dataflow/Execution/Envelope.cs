namespace AntFlow.Dataflow.Execution;

/// <summary>
/// What moves between blocks: the user's value plus the bookkeeping that travels with it.
/// A struct so that moving an item from stage to stage allocates nothing of its own.
/// </summary>
/// <typeparam name="T">The value's type at this point of the pipeline.</typeparam>
internal readonly struct Envelope<T>
{
    public Envelope(object id, long sequence, int priority, int attempt, int maxAttempt, bool skipped, T value, bool injected = false)
    {
        Injected = injected;
        Id = id;
        Sequence = sequence;
        Priority = priority;
        Attempt = attempt;
        MaxAttempt = maxAttempt;
        Skipped = skipped;
        Value = value;
    }

    /// <summary>The item's id (never null for a real envelope; null marks "no output").</summary>
    public object Id { get; }

    public long Sequence { get; }

    public int Priority { get; }

    /// <summary>The attempt number in the current stage, from 1.</summary>
    public int Attempt { get; }

    /// <summary>The highest attempt number reached in any stage so far.</summary>
    public int MaxAttempt { get; }

    /// <summary>Whether the item was skipped in some stage.</summary>
    public bool Skipped { get; }

    public T Value { get; }

    /// <summary>Fed into a stage by name rather than through the pipeline input: its id is not the caller's, so checkpoints ignore it.</summary>
    public bool Injected { get; }

    /// <summary>True for <c>default</c>: a stage produced nothing to pass on (the item went to the results another way).</summary>
    public bool IsEmpty => Id is null;

    public Envelope<TNext> Next<TNext>(TNext value, int maxAttempt, bool skipped) =>
        new(Id, Sequence, Priority, attempt: 1, maxAttempt, skipped, value, Injected);

    public Envelope<T> Retry() =>
        new(Id, Sequence, Priority, Attempt + 1, Math.Max(MaxAttempt, Attempt + 1), Skipped, Value, Injected);
}
