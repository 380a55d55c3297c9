namespace AntFlow.Dataflow;

/// <summary>
/// Remembers which items finished the whole pipeline, so that a re-run after a crash skips them
/// (see <c>PipelineBuilder.WithCheckpoint</c>). Implementations must be safe to call from many workers at once.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Tells whether the item with this id finished in an earlier run.</summary>
    /// <param name="itemId">The item's id (ids compare by value; integral numbers compare numerically).</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns><see langword="true"/> when the item is finished and should be skipped.</returns>
    ValueTask<bool> IsCompletedAsync(object itemId, CancellationToken cancellationToken = default);

    /// <summary>Records that the item with this id finished the last stage.</summary>
    /// <param name="itemId">The item's id.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the mark is durable.</returns>
    ValueTask MarkCompletedAsync(object itemId, CancellationToken cancellationToken = default);
}
