using Polly;

namespace AntFlow.Dataflow;

/// <summary>Defaults of <see cref="AsyncExecutorOptions"/> and limits used by <see cref="AsyncExecutor"/>.</summary>
internal static class ExecutorConstants
{
    /// <summary>Matches Python's <c>ThreadPoolExecutor</c>: jobs are expected to wait on I/O more than they compute.</summary>
    public static int DefaultMaxWorkers => Math.Min(32, Environment.ProcessorCount + 4);

    public static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest base delay and delay cap Polly's retry strategy accepts.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromDays(1);

    public const DelayBackoffType DefaultRetryBackoffType = DelayBackoffType.Exponential;

    public const bool DefaultUseJitter = true;

    /// <summary>How many inputs <c>MapIterAsync</c> may run ahead of its consumer, per worker.</summary>
    public const int LookAheadPerWorker = 2;

    /// <summary>The input position, carried in the Polly context so that retry logs can say which input is retried.</summary>
    public static readonly ResiliencePropertyKey<long> ItemIndexKey = new("AntFlow.Executor.ItemIndex");
}
