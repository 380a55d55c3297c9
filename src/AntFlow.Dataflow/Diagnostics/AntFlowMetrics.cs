using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AntFlow.Dataflow.Diagnostics;

/// <summary>
/// The library's OpenTelemetry instruments: a <see cref="Meter"/> and an <see cref="ActivitySource"/>, both named
/// <c>"AntFlow.Dataflow"</c>. Recording is skipped (no allocation) while nobody listens.
/// </summary>
internal static class AntFlowMetrics
{
    public const string Name = "AntFlow.Dataflow";

    public static readonly Meter Meter = new(Name, typeof(AntFlowMetrics).Assembly.GetName().Version?.ToString());

    public static readonly ActivitySource ActivitySource = new(Name, typeof(AntFlowMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> Processed = Meter.CreateCounter<long>("antflow.items.processed", "{item}", "Items that finished a stage successfully.");
    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("antflow.items.failed", "{item}", "Items that failed for good in a stage.");
    private static readonly Counter<long> Retried = Meter.CreateCounter<long>("antflow.items.retried", "{item}", "Retries (per task or per stage).");
    private static readonly Counter<long> Skipped = Meter.CreateCounter<long>("antflow.items.skipped", "{item}", "Items skipped in a stage.");

    public static void ItemCompleted(string stage, bool skipped)
    {
        Counter<long> counter = skipped ? Skipped : Processed;
        if (counter.Enabled)
        {
            counter.Add(1, new KeyValuePair<string, object?>("stage", stage));
        }
    }

    public static void ItemFailed(string stage)
    {
        if (Failed.Enabled)
        {
            Failed.Add(1, new KeyValuePair<string, object?>("stage", stage));
        }
    }

    public static void ItemRetried(string stage)
    {
        if (Retried.Enabled)
        {
            Retried.Add(1, new KeyValuePair<string, object?>("stage", stage));
        }
    }
}
