namespace BatchApi;

/// <summary>What a <see cref="BatchApiClient"/> has seen so far, counted per HTTP attempt.</summary>
public sealed record BatchApiClientStats
{
    /// <summary>Gets the number of HTTP attempts sent (first tries and retries).</summary>
    public long Attempts { get; init; }

    /// <summary>Gets the number of 429 answers received.</summary>
    public long ThrottledResponses { get; init; }

    /// <summary>Gets the number of 5xx answers received.</summary>
    public long ServerErrorResponses { get; init; }

    /// <summary>Gets the number of attempts abandoned after <see cref="BatchApiClientOptions.AttemptTimeout"/>.</summary>
    public long Timeouts { get; init; }

    /// <summary>Gets the number of attempts that failed to connect or lost the connection.</summary>
    public long ConnectionErrors { get; init; }

    /// <summary>Gets the number of retries after a 429 answer.</summary>
    public long RetriesAfterThrottle { get; init; }

    /// <summary>Gets the number of retries after a 5xx or 408 answer.</summary>
    public long RetriesAfterServerError { get; init; }

    /// <summary>Gets the number of retries after a timeout or a connection error.</summary>
    public long RetriesAfterTimeoutOrConnectionError { get; init; }

    /// <summary>Gets the total time the client waited because the service sent <c>Retry-After</c>.</summary>
    public TimeSpan RetryAfterWaited { get; init; }

    /// <summary>Gets the number of retries in all.</summary>
    public long Retries => RetriesAfterThrottle + RetriesAfterServerError + RetriesAfterTimeoutOrConnectionError;
}
