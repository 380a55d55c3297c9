using System.Net;

namespace BatchApi;

/// <summary>The client's counters, updated from many calls at once.</summary>
internal sealed class ClientCounters
{
    private long _attempts;
    private long _throttled;
    private long _serverErrors;
    private long _timeouts;
    private long _connectionErrors;
    private long _retriesAfterThrottle;
    private long _retriesAfterServerError;
    private long _retriesAfterTimeout;
    private long _retryAfterTicks;

    public void Attempt() => Interlocked.Increment(ref _attempts);

    public void Response(HttpStatusCode status)
    {
        if (status == HttpStatusCode.TooManyRequests)
        {
            Interlocked.Increment(ref _throttled);
        }
        else if ((int)status >= 500)
        {
            Interlocked.Increment(ref _serverErrors);
        }
    }

    public void Timeout() => Interlocked.Increment(ref _timeouts);

    public void ConnectionError() => Interlocked.Increment(ref _connectionErrors);

    public void Retry(HttpStatusCode? status, TimeSpan? retryAfter)
    {
        if (status == HttpStatusCode.TooManyRequests)
        {
            Interlocked.Increment(ref _retriesAfterThrottle);
        }
        else if (status is not null)
        {
            Interlocked.Increment(ref _retriesAfterServerError);
        }
        else
        {
            Interlocked.Increment(ref _retriesAfterTimeout);
        }

        if (retryAfter is { } wait)
        {
            Interlocked.Add(ref _retryAfterTicks, wait.Ticks);
        }
    }

    public BatchApiClientStats Snapshot() => new()
    {
        Attempts = Interlocked.Read(ref _attempts),
        ThrottledResponses = Interlocked.Read(ref _throttled),
        ServerErrorResponses = Interlocked.Read(ref _serverErrors),
        Timeouts = Interlocked.Read(ref _timeouts),
        ConnectionErrors = Interlocked.Read(ref _connectionErrors),
        RetriesAfterThrottle = Interlocked.Read(ref _retriesAfterThrottle),
        RetriesAfterServerError = Interlocked.Read(ref _retriesAfterServerError),
        RetriesAfterTimeoutOrConnectionError = Interlocked.Read(ref _retriesAfterTimeout),
        RetryAfterWaited = TimeSpan.FromTicks(Interlocked.Read(ref _retryAfterTicks)),
    };
}
