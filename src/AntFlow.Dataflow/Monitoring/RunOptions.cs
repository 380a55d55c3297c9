using AntFlow.Dataflow.Execution;

namespace AntFlow.Dataflow;

/// <summary>Options for one <c>RunAsync</c> call.</summary>
public sealed class RunOptions
{
    private TimeSpan _updateInterval = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the display driven during the run.</summary>
    /// <value>The default value is <see langword="null"/> (no display).</value>
    public IPipelineDisplay? Display { get; set; }

    /// <summary>Gets or sets how often the display is updated.</summary>
    /// <value>The default value is one second.</value>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The value is shorter than one millisecond or longer than timers allow (about 49.7 days).
    /// </exception>
    public TimeSpan UpdateInterval
    {
        get => _updateInterval;
        set
        {
            TimerLimits.ThrowIfInvalidPeriod(value, nameof(value));
            _updateInterval = value;
        }
    }
}
