namespace AntFlow.Dataflow.Execution;

/// <summary>
/// The backoff before a per-stage retry: exponential from the configured delay (delay × 2^(attempt − 1)), with
/// ±25 % uniform jitter so that items failing together do not come back together, capped at one hour.
/// </summary>
internal static class StageRetryDelay
{
    public static readonly TimeSpan Max = TimeSpan.FromHours(1);

    public const double Jitter = 0.25;

    /// <param name="baseDelay">The configured first delay.</param>
    /// <param name="failedAttempt">The attempt that just failed, from 1.</param>
    public static TimeSpan For(TimeSpan baseDelay, int failedAttempt) => For(baseDelay, failedAttempt, Random.Shared.NextDouble());

    /// <param name="baseDelay">The configured first delay.</param>
    /// <param name="failedAttempt">The attempt that just failed, from 1.</param>
    /// <param name="random">A uniform random number in [0, 1).</param>
    public static TimeSpan For(TimeSpan baseDelay, int failedAttempt, double random)
    {
        if (baseDelay <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        double exponential = baseDelay.Ticks * Math.Pow(2, Math.Clamp(failedAttempt - 1, 0, 30));
        double jittered = exponential * (1 - Jitter + (2 * Jitter * random));
        return jittered >= Max.Ticks ? Max : TimeSpan.FromTicks((long)jittered);
    }
}
