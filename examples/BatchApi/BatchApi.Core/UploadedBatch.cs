namespace BatchApi;

/// <summary>A batch the service has accepted, with its latest known state.</summary>
/// <param name="Job">The batch.</param>
/// <param name="Info">What the service last said about it.</param>
public sealed record UploadedBatch(BatchJob Job, BatchInfo Info);
