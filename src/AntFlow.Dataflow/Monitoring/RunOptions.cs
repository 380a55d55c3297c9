namespace AntFlow.Dataflow;

/// <summary>Options for one <c>RunAsync</c> call.</summary>
public sealed class RunOptions
{
    private static readonly TimeSpan ShortestUpdateInterval = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan LongestUpdateInterval = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

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
            ArgumentOutOfRangeException.ThrowIfLessThan(value, ShortestUpdateInterval);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, LongestUpdateInterval);
            _updateInterval = value;
        }
    }
}
