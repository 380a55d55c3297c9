namespace AntFlow.Dataflow;

/// <summary>Defaults and limits of <see cref="StatusTrackerOptions"/>, in one place so docs and code agree.</summary>
internal static class StatusTrackerConstants
{
    public const int DefaultMaxHistoryPerItem = 100;

    public const int DefaultEventBufferCapacity = 10_000;

    public const int MinMaxHistoryPerItem = 1;

    public const int MinEventBufferCapacity = 1;

    public const int MinMaxFinishedItems = 1;
}
