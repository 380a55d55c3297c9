namespace BatchApi;

/// <summary>A completed batch with its results.</summary>
/// <param name="Job">The batch.</param>
/// <param name="Info">The service's final state of the batch.</param>
/// <param name="Outputs">One answer per request, in request order.</param>
public sealed record DownloadedBatch(BatchJob Job, BatchInfo Info, IReadOnlyList<BatchOutput> Outputs);
