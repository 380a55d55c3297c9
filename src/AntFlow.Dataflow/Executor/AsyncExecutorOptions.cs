using Microsoft.Extensions.Logging;
using Polly;

namespace AntFlow.Dataflow;

/// <summary>Settings of an <see cref="AsyncExecutor"/>. The executor copies them when it is created.</summary>
public sealed class AsyncExecutorOptions
{
    private int _maxWorkers = ExecutorConstants.DefaultMaxWorkers;
    private TimeProvider _timeProvider = TimeProvider.System;
    private TimeSpan _retryDelay = ExecutorConstants.DefaultRetryDelay;
    private TimeSpan? _maxRetryDelay;
    private DelayBackoffType _retryBackoffType = ExecutorConstants.DefaultRetryBackoffType;

    /// <summary>Gets or sets how many jobs may run at the same time.</summary>
    /// <value>The default value is <c>Math.Min(32, Environment.ProcessorCount + 4)</c>, as in Python's <c>ThreadPoolExecutor</c>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxWorkers
    {
        get => _maxWorkers;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxWorkers = value;
        }
    }

    /// <summary>Gets or sets the factory of the executor's logger.</summary>
    /// <value>The default value is <see langword="null"/> (nothing is logged).</value>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets the clock used for retry delays.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _timeProvider = value;
        }
    }

    /// <summary>
    /// Gets or sets the base delay before a retry in <c>MapAsync</c> and <c>MapIterAsync</c>; the backoff type
    /// decides how it grows from one retry to the next.
    /// </summary>
    /// <value>The default value is 200 milliseconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than one day.</exception>
    public TimeSpan RetryDelay
    {
        get => _retryDelay;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, ExecutorConstants.MaxRetryDelay);
            _retryDelay = value;
        }
    }

    /// <summary>Gets or sets how the retry delay grows with each retry.</summary>
    /// <value>The default value is <see cref="DelayBackoffType.Exponential"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="DelayBackoffType"/>.</exception>
    public DelayBackoffType RetryBackoffType
    {
        get => _retryBackoffType;
        set
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"RetryBackoffType must be one of {string.Join(", ", Enum.GetNames<DelayBackoffType>())} (was {(int)value}).");
            }

            _retryBackoffType = value;
        }
    }

    /// <summary>Gets or sets whether a random jitter is added to retry delays, so that failing jobs do not retry in lockstep.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool UseJitter { get; set; } = ExecutorConstants.DefaultUseJitter;

    /// <summary>Gets or sets the longest delay between two attempts, or <see langword="null"/> for no limit.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than one day.</exception>
    public TimeSpan? MaxRetryDelay
    {
        get => _maxRetryDelay;
        set
        {
            if (value is { } delay)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero, nameof(value));
                ArgumentOutOfRangeException.ThrowIfGreaterThan(delay, ExecutorConstants.MaxRetryDelay, nameof(value));
            }

            _maxRetryDelay = value;
        }
    }
}
