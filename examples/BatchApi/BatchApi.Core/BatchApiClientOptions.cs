namespace BatchApi;

/// <summary>How <see cref="BatchApiClient"/> retries and times out its HTTP calls.</summary>
public sealed class BatchApiClientOptions
{
    /// <summary>Gets or sets how long one HTTP attempt may take before it is abandoned (and retried).</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how many times a call is retried after a 429, 408 or 5xx answer, a timeout or a connection error.
    /// 0 turns HTTP retries off (the caller sees every failure).
    /// </summary>
    /// <value>The default value is 5.</value>
    public int MaxRetryAttempts { get; set; } = 5;

    /// <summary>Gets or sets the first backoff delay when the service gives no <c>Retry-After</c>; it doubles at each retry, with jitter.</summary>
    /// <value>The default value is 200 milliseconds.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the longest backoff delay.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the longest <c>Retry-After</c> the client honours; a longer one fails the call instead.</summary>
    /// <value>The default value is 60 seconds.</value>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets what goes before the batch id in the <c>Idempotency-Key</c> header. Two runs that must not share
    /// batches on the service (a baseline next to the pipeline, say) use different prefixes.
    /// </summary>
    /// <value>The default value is the empty string.</value>
    public string IdempotencyKeyPrefix { get; set; } = string.Empty;

    /// <summary>Gets or sets the clock used for backoff, timeouts and <c>Retry-After</c> dates.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks every option and reports all problems at once.</summary>
    /// <exception cref="ArgumentException">One or more options are out of range; the message lists them all.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (AttemptTimeout <= TimeSpan.Zero)
        {
            errors.Add($"AttemptTimeout must be positive (was {AttemptTimeout}).");
        }

        if (MaxRetryAttempts < 0)
        {
            errors.Add($"MaxRetryAttempts must not be negative (was {MaxRetryAttempts}).");
        }

        if (RetryDelay < TimeSpan.Zero)
        {
            errors.Add($"RetryDelay must not be negative (was {RetryDelay}).");
        }

        if (MaxRetryDelay < RetryDelay)
        {
            errors.Add($"MaxRetryDelay must be at least RetryDelay (was {MaxRetryDelay}).");
        }

        if (MaxRetryAfter < TimeSpan.Zero)
        {
            errors.Add($"MaxRetryAfter must not be negative (was {MaxRetryAfter}).");
        }

        if (IdempotencyKeyPrefix is null)
        {
            errors.Add("IdempotencyKeyPrefix must not be null.");
        }

        if (TimeProvider is null)
        {
            errors.Add("TimeProvider must not be null.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("The batch API client options are invalid: " + string.Join(" ", errors));
        }
    }
}
