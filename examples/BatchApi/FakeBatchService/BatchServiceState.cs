using System.Collections.Concurrent;

namespace FakeBatchService;

/// <summary>Everything the service remembers: batches, call counters and the rate limit.</summary>
internal sealed class BatchServiceState
{
    private readonly ConcurrentDictionary<string, FakeBatch> _batches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeBatch> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _callsByEndpointAndKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _uploadsByKey = new(StringComparer.Ordinal);
    private readonly Lock _createLock = new();
    private readonly TokenBucket? _bucket;
    private long _sequence;
    private long _uploadRequests;
    private long _statusRequests;
    private long _resultRequests;
    private long _duplicateUploads;
    private long _throttled;
    private long _rateLimited;
    private long _serverErrors;
    private long _hangs;

    public BatchServiceState(FakeBatchServiceOptions options)
    {
        Options = options;
        Time = options.TimeProvider;
        if (options.RequestsPerSecond is { } rate)
        {
            _bucket = new TokenBucket(rate, options.Burst, Time);
        }
    }

    public FakeBatchServiceOptions Options { get; }

    public TimeProvider Time { get; }

    public void CountRequest(Endpoint endpoint, string? idempotencyKey)
    {
        switch (endpoint)
        {
            case Endpoint.Upload:
                Interlocked.Increment(ref _uploadRequests);
                if (idempotencyKey is not null)
                {
                    _uploadsByKey.AddOrUpdate(idempotencyKey, 1, static (_, n) => n + 1);
                }

                break;
            case Endpoint.Status:
                Interlocked.Increment(ref _statusRequests);
                break;
            default:
                Interlocked.Increment(ref _resultRequests);
                break;
        }
    }

    /// <summary>Decides what happens to a call: the rate limit first, then the seeded faults for this key's n-th call.</summary>
    public CallDecision Decide(Endpoint endpoint, string key)
    {
        if (_bucket is not null && !_bucket.TryTake(out TimeSpan wait))
        {
            Interlocked.Increment(ref _rateLimited);
            Interlocked.Increment(ref _throttled);
            return new CallDecision(CallOutcome.Throttle, wait);
        }

        // Numbered per endpoint and key, after the rate limit: which calls fail does not depend on timing.
        string name = endpoint.ToString();
        int call = _callsByEndpointAndKey.AddOrUpdate(name + "|" + key, 1, static (_, n) => n + 1);
        double roll = StableRandom.Unit(Options.Seed, name, key, call);
        if (roll < Options.ServerErrorRate)
        {
            Interlocked.Increment(ref _serverErrors);
            return new CallDecision(CallOutcome.ServerError, TimeSpan.Zero);
        }

        roll -= Options.ServerErrorRate;
        if (roll < Options.ThrottleRate)
        {
            Interlocked.Increment(ref _throttled);
            return new CallDecision(CallOutcome.Throttle, Options.ThrottleRetryAfter);
        }

        roll -= Options.ThrottleRate;
        if (roll < Options.HangRate)
        {
            Interlocked.Increment(ref _hangs);
            return new CallDecision(CallOutcome.Hang, TimeSpan.Zero);
        }

        double spread = 0.5 + StableRandom.Unit(Options.Seed, "latency|" + name, key, call);
        return new CallDecision(CallOutcome.Answer, Options.Latency * spread);
    }

    /// <summary>Creates a batch, or returns the one created earlier with the same idempotency key.</summary>
    public FakeBatch Create(string? idempotencyKey, IReadOnlyList<RequestLine> requests)
    {
        lock (_createLock)
        {
            if (idempotencyKey is not null && _byKey.TryGetValue(idempotencyKey, out FakeBatch? existing))
            {
                Interlocked.Increment(ref _duplicateUploads);
                return existing;
            }

            long sequence = ++_sequence;
            string id = $"batch_{sequence:D6}";

            // The time a batch takes depends on its contents and the seed only: the same batches take the same time in
            // every run, whatever order they arrive in and whatever key they are uploaded with.
            double u = StableRandom.Unit(Options.Seed, "duration", ContentKey(requests), 0);
            TimeSpan processing = ProcessingTime(u);
            var batch = new FakeBatch(id, idempotencyKey, requests, Time.GetTimestamp(), Time.GetUtcNow(), processing);
            _batches[id] = batch;
            if (idempotencyKey is not null)
            {
                _byKey[idempotencyKey] = batch;
            }

            return batch;
        }
    }

    public FakeBatch? Find(string id) => _batches.GetValueOrDefault(id);

    public FakeBatchServiceStats GetStats()
    {
        long uploads = Interlocked.Read(ref _uploadRequests);
        long status = Interlocked.Read(ref _statusRequests);
        long results = Interlocked.Read(ref _resultRequests);
        return new FakeBatchServiceStats
        {
            TotalRequests = uploads + status + results,
            UploadRequests = uploads,
            StatusRequests = status,
            ResultRequests = results,
            BatchesCreated = _batches.Count,
            DuplicateUploads = Interlocked.Read(ref _duplicateUploads),
            Throttled = Interlocked.Read(ref _throttled),
            RateLimited = Interlocked.Read(ref _rateLimited),
            ServerErrors = Interlocked.Read(ref _serverErrors),
            Hangs = Interlocked.Read(ref _hangs),
            UploadRequestsByKey = new Dictionary<string, int>(_uploadsByKey, StringComparer.Ordinal),
        };
    }

    private static string ContentKey(IReadOnlyList<RequestLine> requests) =>
        string.Join('\n', requests.Select(r => r.CustomId + "\t" + r.Body));

    /// <summary>Pareto-distributed processing time (inverse transform), cut at the maximum.</summary>
    private TimeSpan ProcessingTime(double u)
    {
        double min = Options.MinProcessingTime.TotalMilliseconds;
        double value = min * Math.Pow(1 - u, -1 / Options.TailExponent);
        return TimeSpan.FromMilliseconds(Math.Min(value, Options.MaxProcessingTime.TotalMilliseconds));
    }
}

/// <summary>The service's batch endpoints.</summary>
internal enum Endpoint
{
    Upload,
    Status,
    Results,
}

/// <summary>What the service does with a call.</summary>
internal enum CallOutcome
{
    Answer,
    ServerError,
    Throttle,
    Hang,
}

/// <summary>A call's fate: for <see cref="CallOutcome.Answer"/> the latency, for <see cref="CallOutcome.Throttle"/> the Retry-After.</summary>
internal readonly record struct CallDecision(CallOutcome Outcome, TimeSpan Delay);
