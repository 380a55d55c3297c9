using System.Threading.RateLimiting;

namespace AntFlow.Dataflow.Execution;

/// <summary>
/// At most <c>permits</c> acquisitions per <c>per</c> window, on the pipeline's <see cref="TimeProvider"/>: a
/// <see cref="FixedWindowRateLimiter"/> without automatic replenishment, replenished by a timer from that clock (so
/// 60 per minute allows a burst of 60, then waits for the next minute, and tests can drive it with fake time).
/// </summary>
internal sealed class RateGate : IDisposable
{
    private readonly FixedWindowRateLimiter _limiter;
    private readonly ITimer _timer;

    public RateGate(int permits, TimeSpan per, TimeProvider timeProvider)
    {
        _limiter = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,

            // The limiter's own window check uses the real clock; the smallest window lets every TryReplenish from
            // our timer start a new window, so the injected clock alone decides when windows turn.
            Window = TimeSpan.FromTicks(1),
            AutoReplenishment = false,
        });
        _timer = timeProvider.CreateTimer(static state => ((FixedWindowRateLimiter)state!).TryReplenish(), _limiter, per, per);
    }

    public async ValueTask AcquireAsync(CancellationToken cancellationToken)
    {
        using RateLimitLease lease = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            throw new InvalidOperationException("The rate limiter refused a permit.");
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _limiter.Dispose();
    }
}
