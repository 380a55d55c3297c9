namespace AntFlow.Dataflow;

/// <summary>
/// Results of a map, stored by input position while workers finish out of order. Slots live in fixed-size
/// chunks that never move, so a worker can write its slot without a lock once the slot has been reserved.
/// </summary>
/// <remarks>
/// Thread safety: <see cref="Reserve"/> is called under the caller's enumeration lock, in increasing index order;
/// <see cref="Set"/> is called without a lock, once per reserved index; <see cref="ToArray"/> after every
/// writer has finished.
/// </remarks>
/// <typeparam name="T">The type of the results.</typeparam>
internal sealed class ResultSlots<T>
{
    private const int ChunkShift = 12;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    // When the input count is known up front, results go straight into the array that is returned.
    private readonly T[] _exact;

    // Overflow beyond _exact (unknown count, or a source that yields more than it announced).
    // The spine is replaced under the enumeration lock; chunks inside it never move.
    private T[]?[] _chunks = [];

    public ResultSlots(int expectedCount)
    {
        _exact = expectedCount > 0 ? new T[expectedCount] : [];
    }

    /// <summary>Makes room for <paramref name="index"/>. Call under the enumeration lock.</summary>
    public void Reserve(int index)
    {
        int overflow = index - _exact.Length;
        if (overflow < 0)
        {
            return;
        }

        int chunk = overflow >> ChunkShift;
        T[]?[] chunks = _chunks;
        if (chunk >= chunks.Length)
        {
            var grown = new T[]?[Math.Max(4, chunks.Length * 2)];
            Array.Copy(chunks, grown, chunks.Length);
            chunks = grown;
        }

        // A chunk is created before its first index is handed out, and the enumeration lock orders that
        // before the writer's Set: the writer always finds its chunk, in the old spine or the new one.
        chunks[chunk] ??= new T[ChunkSize];
        Volatile.Write(ref _chunks, chunks);
    }

    /// <summary>Stores the result of input <paramref name="index"/>, which must have been reserved.</summary>
    public void Set(int index, T value)
    {
        int overflow = index - _exact.Length;
        if (overflow < 0)
        {
            _exact[index] = value;
            return;
        }

        Volatile.Read(ref _chunks)[overflow >> ChunkShift]![overflow & ChunkMask] = value;
    }

    /// <summary>Returns the first <paramref name="count"/> results, in input order.</summary>
    public T[] ToArray(int count)
    {
        if (count == _exact.Length)
        {
            return _exact;
        }

        var result = new T[count];
        int fromExact = Math.Min(count, _exact.Length);
        Array.Copy(_exact, result, fromExact);
        for (int copied = fromExact, chunk = 0; copied < count; chunk++)
        {
            int length = Math.Min(ChunkSize, count - copied);
            Array.Copy(_chunks[chunk]!, 0, result, copied, length);
            copied += length;
        }

        return result;
    }
}
