namespace AntFlow.Dataflow.Building;

/// <summary>Default values of stage settings.</summary>
internal static class StageDefaults
{
    public const int Workers = 1;

    public const int QueueCapacityPerWorker = 10;

    public const int Priority = 100;

    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);
}
