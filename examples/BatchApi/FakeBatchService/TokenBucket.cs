namespace FakeBatchService;

/// <summary>The service-wide rate limit: <c>rate</c> tokens a second, at most <c>burst</c> saved up.</summary>
internal sealed class TokenBucket
{
    private readonly double _rate;
    private readonly int _burst;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private double _tokens; // protected by _lock
    private long _last;     // protected by _lock

    public TokenBucket(double rate, int burst, TimeProvider time)
    {
        _rate = rate;
        _burst = burst;
        _time = time;
        _tokens = burst;
        _last = time.GetTimestamp();
    }

    /// <summary>Takes a token, or says how long to wait before coming back.</summary>
    public bool TryTake(out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _rate));
            _last = now;
            if (_tokens >= 1)
            {
                _tokens -= 1;
                retryAfter = TimeSpan.Zero;
                return true;
            }

            // Not the time until the next single token, which every turned-away client would race for at the same
            // instant, but until the bucket is half full again: the waiting clients can then all get through.
            retryAfter = TimeSpan.FromSeconds(((_burst / 2.0) - _tokens) / _rate);
            return false;
        }
    }
}
