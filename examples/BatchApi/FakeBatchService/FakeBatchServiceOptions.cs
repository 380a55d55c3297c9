using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FakeBatchService;

/// <summary>
/// The knobs of the fake batch service: how long batches take, how often calls fail, hang or are throttled.
/// Every random choice is a pure function of <see cref="Seed"/>, the batch and the call, so a run can be repeated.
/// </summary>
public sealed class FakeBatchServiceOptions
{
    /// <summary>Gets or sets the seed of every random choice (processing times, faults, latencies).</summary>
    /// <value>The default value is 1.</value>
    public int Seed { get; set; } = 1;

    /// <summary>Gets or sets the shortest time a batch takes from upload to completion.</summary>
    /// <value>The default value is 300 milliseconds.</value>
    public TimeSpan MinProcessingTime { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Gets or sets the longest time a batch takes; the heavy tail is cut here.</summary>
    /// <value>The default value is 9 seconds (30 times <see cref="MinProcessingTime"/>).</value>
    public TimeSpan MaxProcessingTime { get; set; } = TimeSpan.FromSeconds(9);

    /// <summary>
    /// Gets or sets the Pareto shape of processing times: smaller is a heavier tail. With 1.16 (the "80/20" shape)
    /// the median batch takes about 1.8 times <see cref="MinProcessingTime"/> and one in fifty reaches the maximum.
    /// </summary>
    /// <value>The default value is 1.16.</value>
    public double TailExponent { get; set; } = 1.16;

    /// <summary>Gets or sets the share of a batch's processing time spent in the <c>validating</c> state.</summary>
    /// <value>The default value is 0.1.</value>
    public double ValidatingFraction { get; set; } = 0.1;

    /// <summary>Gets or sets the share of calls answered with HTTP 500.</summary>
    /// <value>The default value is 0.02.</value>
    public double ServerErrorRate { get; set; } = 0.02;

    /// <summary>
    /// Gets or sets the share of calls answered with HTTP 429 whatever the client's own rate (the service is busy
    /// with other tenants). They carry <see cref="ThrottleRetryAfter"/>.
    /// </summary>
    /// <value>The default value is 0.</value>
    public double ThrottleRate { get; set; }

    /// <summary>Gets or sets the <c>Retry-After</c> sent with the 429s of <see cref="ThrottleRate"/>.</summary>
    /// <value>The default value is 500 milliseconds.</value>
    public TimeSpan ThrottleRetryAfter { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets the share of calls that never answer (until the client gives up). An upload that hangs still
    /// creates its batch: only the answer is lost, which is why clients send an <c>Idempotency-Key</c>.
    /// </summary>
    /// <value>The default value is 0.005.</value>
    public double HangRate { get; set; } = 0.005;

    /// <summary>
    /// Gets or sets the sustained request rate the service accepts (a token bucket shared by all clients); above it
    /// calls get HTTP 429 with <c>Retry-After</c> and <c>retry-after-ms</c>. <see langword="null"/> for no limit.
    /// </summary>
    /// <value>The default value is 200 requests per second.</value>
    public double? RequestsPerSecond { get; set; } = 200;

    /// <summary>Gets or sets how many requests the token bucket lets through at once after a quiet period.</summary>
    /// <value>The default value is 40.</value>
    public int Burst { get; set; } = 40;

    /// <summary>Gets or sets the typical time the service takes to answer a call; each call takes between half and one and a half of it.</summary>
    /// <value>The default value is 10 milliseconds.</value>
    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Gets or sets the clock batches progress by.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets how the host logs. <see langword="null"/> (in-process servers) logs nothing, so the service does
    /// not write over a terminal dashboard.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }

    /// <summary>Checks every option and reports all problems at once.</summary>
    /// <exception cref="ArgumentException">One or more options are out of range; the message lists them all.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (MinProcessingTime < TimeSpan.Zero)
        {
            errors.Add($"MinProcessingTime must not be negative (was {MinProcessingTime}).");
        }

        if (MaxProcessingTime < MinProcessingTime)
        {
            errors.Add($"MaxProcessingTime must be at least MinProcessingTime (was {MaxProcessingTime} < {MinProcessingTime}).");
        }

        if (!(TailExponent > 0) || double.IsInfinity(TailExponent))
        {
            errors.Add($"TailExponent must be positive (was {TailExponent.ToString(CultureInfo.InvariantCulture)}).");
        }

        CheckShare(errors, nameof(ValidatingFraction), ValidatingFraction);
        CheckShare(errors, nameof(ServerErrorRate), ServerErrorRate);
        CheckShare(errors, nameof(ThrottleRate), ThrottleRate);
        CheckShare(errors, nameof(HangRate), HangRate);
        if (ServerErrorRate + ThrottleRate + HangRate > 1)
        {
            errors.Add("ServerErrorRate + ThrottleRate + HangRate must not exceed 1.");
        }

        if (ThrottleRetryAfter < TimeSpan.Zero)
        {
            errors.Add($"ThrottleRetryAfter must not be negative (was {ThrottleRetryAfter}).");
        }

        if (RequestsPerSecond is { } rate && (!(rate > 0) || double.IsInfinity(rate)))
        {
            errors.Add($"RequestsPerSecond must be positive or null (was {rate.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (Burst < 1)
        {
            errors.Add($"Burst must be at least 1 (was {Burst}).");
        }

        if (Latency < TimeSpan.Zero)
        {
            errors.Add($"Latency must not be negative (was {Latency}).");
        }

        if (TimeProvider is null)
        {
            errors.Add("TimeProvider must not be null.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("The fake batch service options are invalid: " + string.Join(" ", errors));
        }
    }

    private static void CheckShare(List<string> errors, string name, double value)
    {
        if (!(value >= 0 && value <= 1))
        {
            errors.Add($"{name} must be between 0 and 1 (was {value.ToString(CultureInfo.InvariantCulture)}).");
        }
    }
}
