namespace BatchApi;

/// <summary>One row of <c>batch_results</c>: a batch's results as saved.</summary>
/// <param name="BatchId">The batch's stable id (the primary key).</param>
/// <param name="RemoteId">The service's id of the batch.</param>
/// <param name="RequestCount">Requests in the batch.</param>
/// <param name="Outputs">The answers, in request order.</param>
/// <param name="CompletedAt">When the service completed the batch.</param>
/// <param name="SavedAt">When the row was last written.</param>
/// <param name="SaveCount">How many times the row was written: 1 unless the batch was processed again (the upsert keeps one row).</param>
public sealed record BatchResultRecord(
    string BatchId,
    string RemoteId,
    int RequestCount,
    IReadOnlyList<BatchOutput> Outputs,
    DateTimeOffset? CompletedAt,
    DateTimeOffset SavedAt,
    int SaveCount);
