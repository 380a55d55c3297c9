namespace AntFlow.Dataflow.Execution;

/// <summary>The range of periods and timeouts the runtime's timers accept, checked where a user gives one.</summary>
internal static class TimerLimits
{
    /// <summary>The longest period or timeout timers accept: uint.MaxValue - 1 milliseconds, about 49.7 days.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>The shortest period a <see cref="PeriodicTimer"/> accepts.</summary>
    public static readonly TimeSpan ShortestPeriod = TimeSpan.FromMilliseconds(1);

    /// <summary>Throws when <paramref name="period"/> is outside what a <see cref="PeriodicTimer"/> accepts.</summary>
    /// <param name="period">The period.</param>
    /// <param name="paramName">The name of the argument or property it came from.</param>
    public static void ThrowIfInvalidPeriod(TimeSpan period, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, ShortestPeriod, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(period, Longest, paramName);
    }
}
