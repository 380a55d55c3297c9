using System.Collections.Concurrent;

namespace AntFlow.Dataflow;

/// <summary>
/// An <see cref="ICheckpointStore"/> kept in memory: re-running the same pipeline object (or another built with the
/// same store) skips items that already finished. Ids compare by value, integral numbers numerically.
/// </summary>
public sealed class InMemoryCheckpointStore : ICheckpointStore
{
    private readonly ConcurrentDictionary<object, bool> _completed = new(ItemIdComparer.Instance);

    /// <summary>Gets how many items are marked finished.</summary>
    public int Count => _completed.Count;

    /// <inheritdoc />
    public ValueTask<bool> IsCompletedAsync(object itemId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        return new ValueTask<bool>(_completed.ContainsKey(itemId));
    }

    /// <inheritdoc />
    public ValueTask MarkCompletedAsync(object itemId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        _completed[itemId] = true;
        return ValueTask.CompletedTask;
    }

    /// <summary>Forgets every mark.</summary>
    public void Clear() => _completed.Clear();
}
