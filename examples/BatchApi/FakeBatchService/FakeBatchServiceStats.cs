namespace FakeBatchService;

/// <summary>What the fake service has done so far: every call, and every failure it handed out on purpose.</summary>
public sealed record FakeBatchServiceStats
{
    /// <summary>Gets the number of calls to the batch endpoints (uploads, status, results), whatever their answer.</summary>
    public long TotalRequests { get; init; }

    /// <summary>Gets the number of <c>POST /batches</c> calls.</summary>
    public long UploadRequests { get; init; }

    /// <summary>Gets the number of <c>GET /batches/{id}</c> calls.</summary>
    public long StatusRequests { get; init; }

    /// <summary>Gets the number of <c>GET /batches/{id}/results</c> calls.</summary>
    public long ResultRequests { get; init; }

    /// <summary>Gets the number of distinct batches created.</summary>
    public long BatchesCreated { get; init; }

    /// <summary>Gets the number of uploads answered with an existing batch because their <c>Idempotency-Key</c> was already used.</summary>
    public long DuplicateUploads { get; init; }

    /// <summary>Gets the number of HTTP 429 answers, from the rate limit and from <see cref="FakeBatchServiceOptions.ThrottleRate"/>.</summary>
    public long Throttled { get; init; }

    /// <summary>Gets the number of those 429 answers that came from the rate limit.</summary>
    public long RateLimited { get; init; }

    /// <summary>Gets the number of HTTP 500 answers.</summary>
    public long ServerErrors { get; init; }

    /// <summary>Gets the number of calls the service never answered.</summary>
    public long Hangs { get; init; }

    /// <summary>Gets the number of upload calls per <c>Idempotency-Key</c> (all of them, throttled and failed ones too).</summary>
    public IReadOnlyDictionary<string, int> UploadRequestsByKey { get; init; } = new Dictionary<string, int>();
}
