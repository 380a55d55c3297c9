namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>
/// Estimates throughput from successive (done, timestamp) samples with an exponential moving average whose
/// weight depends on the time between samples, so the smoothing is the same whatever the update interval.
/// The average is bias-corrected: early on it equals the mean rate since the first sample instead of being
/// dragged towards zero by the empty starting value.
/// </summary>
internal sealed class RateEstimator
{
    /// <summary>The smoothing time constant: samples older than a few of these barely count.</summary>
    public static readonly TimeSpan DefaultTimeConstant = TimeSpan.FromSeconds(8);

    private readonly double _timeConstantSeconds;
    private DateTimeOffset? _firstTime;
    private long _firstDone;
    private DateTimeOffset _lastTime;
    private long _lastDone;
    private double _average;
    private double _weight;

    /// <summary>Initializes a new instance of the <see cref="RateEstimator"/> class.</summary>
    /// <param name="timeConstant">The smoothing time constant; longer is steadier but slower to follow changes.</param>
    public RateEstimator(TimeSpan timeConstant)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeConstant, TimeSpan.Zero);
        _timeConstantSeconds = timeConstant.TotalSeconds;
    }

    /// <summary>Initializes a new instance of the <see cref="RateEstimator"/> class with <see cref="DefaultTimeConstant"/>.</summary>
    public RateEstimator()
        : this(DefaultTimeConstant)
    {
    }

    /// <summary>Gets when the first sample was taken, or <see langword="null"/> before any.</summary>
    public DateTimeOffset? StartedAt => _firstTime;

    /// <summary>Gets the smoothed rate in items per second, or <see langword="null"/> until two samples some time apart.</summary>
    public double? Rate => _weight > 0 ? _average / _weight : null;

    /// <summary>Gets the mean rate between the first and the latest sample, or <see langword="null"/> when no time passed.</summary>
    public double? AverageRate
    {
        get
        {
            if (_firstTime is not { } first)
            {
                return null;
            }

            double seconds = (_lastTime - first).TotalSeconds;
            return seconds > 0 ? (_lastDone - _firstDone) / seconds : null;
        }
    }

    /// <summary>Forgets every sample.</summary>
    public void Reset()
    {
        _firstTime = null;
        _firstDone = 0;
        _lastTime = default;
        _lastDone = 0;
        _average = 0;
        _weight = 0;
    }

    /// <summary>Adds a sample.</summary>
    /// <param name="done">The number of finished items at <paramref name="timestamp"/>.</param>
    /// <param name="timestamp">When the count was read.</param>
    public void Observe(long done, DateTimeOffset timestamp)
    {
        if (_firstTime is null)
        {
            _firstTime = timestamp;
            _firstDone = done;
            _lastTime = timestamp;
            _lastDone = done;
            return;
        }

        double seconds = (timestamp - _lastTime).TotalSeconds;
        if (seconds <= 0)
        {
            // Same (or an out-of-order) timestamp: keep the older sample as the base so the progress made
            // meanwhile is counted at the next sample instead of becoming an infinite rate now.
            return;
        }

        double instant = Math.Max(0, done - _lastDone) / seconds;
        double alpha = 1 - Math.Exp(-seconds / _timeConstantSeconds);
        _average = ((1 - alpha) * _average) + (alpha * instant);
        _weight = ((1 - alpha) * _weight) + alpha;
        _lastTime = timestamp;
        _lastDone = done;
    }

    /// <summary>Estimates the time left for <paramref name="remaining"/> items at the smoothed rate.</summary>
    /// <param name="remaining">Items still to finish.</param>
    /// <returns>The estimate, zero when nothing remains, or <see langword="null"/> when the rate is unknown or zero.</returns>
    public TimeSpan? EstimateRemaining(long remaining) => Estimate(remaining, Rate);

    /// <summary>Estimates the time to finish <paramref name="remaining"/> items at <paramref name="rate"/> items per second.</summary>
    /// <param name="remaining">Items still to finish.</param>
    /// <param name="rate">Items per second.</param>
    /// <returns>The estimate, zero when nothing remains, or <see langword="null"/> when it cannot be estimated.</returns>
    public static TimeSpan? Estimate(long remaining, double? rate)
    {
        if (remaining <= 0)
        {
            return TimeSpan.Zero;
        }

        if (rate is not { } r || !double.IsFinite(r) || r <= 0)
        {
            return null;
        }

        double seconds = remaining / r;

        // Past a year the estimate means nothing (and TimeSpan would overflow further out).
        return seconds < TimeSpan.FromDays(365).TotalSeconds ? TimeSpan.FromSeconds(seconds) : null;
    }
}
