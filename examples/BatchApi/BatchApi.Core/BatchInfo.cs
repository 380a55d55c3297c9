namespace BatchApi;

/// <summary>A batch as the service reports it.</summary>
/// <param name="Id">The service's id for the batch.</param>
/// <param name="Status">The service's status: <c>validating</c>, <c>in_progress</c>, <c>completed</c>, or <c>failed</c>, <c>expired</c>, <c>cancelled</c>.</param>
/// <param name="CreatedAt">When the service created the batch.</param>
/// <param name="CompletedAt">When it completed, once it has.</param>
/// <param name="TotalRequests">Requests in the batch.</param>
/// <param name="CompletedRequests">Requests answered so far.</param>
/// <param name="FailedRequests">Requests that failed.</param>
public sealed record BatchInfo(string Id, string Status, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, int TotalRequests, int CompletedRequests, int FailedRequests)
{
    /// <summary>Gets a value indicating whether the results can be downloaded.</summary>
    public bool IsCompleted => Status == "completed";

    /// <summary>Gets a value indicating whether the batch ended without results (failed, expired or cancelled).</summary>
    public bool IsFailed => Status is "failed" or "expired" or "cancelled";
}
