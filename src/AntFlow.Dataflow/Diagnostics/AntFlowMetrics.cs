using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AntFlow.Dataflow.Execution;

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
    private static readonly Histogram<double> ItemDuration = Meter.CreateHistogram<double>("antflow.item.duration", "s", "Time a worker spent on one item in a stage.");
    private static readonly ConcurrentDictionary<Execution.PipelineEngine, byte> RunningEngines = new();

    static AntFlowMetrics()
    {
        Meter.CreateObservableGauge("antflow.queue.size", ObserveQueueSizes, "{item}", "Items waiting in each stage's queue.");
        Meter.CreateObservableGauge("antflow.workers.busy", ObserveBusyWorkers, "{worker}", "Busy workers per stage.");
    }

    /// <summary>Makes a running pipeline visible to the observable gauges until it completes.</summary>
    public static void Track(Execution.PipelineEngine engine, Task completion)
    {
        RunningEngines.TryAdd(engine, 0);
        completion.ContinueWith(static (_, e) => RunningEngines.TryRemove((Execution.PipelineEngine)e!, out byte _), engine, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Stops showing an engine in the observable gauges.</summary>
    public static void Untrack(Execution.PipelineEngine engine) => RunningEngines.TryRemove(engine, out byte _);

    /// <summary>Starts an activity for one item in one stage, only when someone listens.</summary>
    public static Activity? StartItemActivity(string stage, ItemTicket item, int attempt)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        // Listeners and the id's ToString are user code; tracing must never change an item's outcome.
        Activity? activity = null;
        try
        {
            activity = ActivitySource.StartActivity(stage, ActivityKind.Internal);
            activity?.SetTag("antflow.stage", stage);
            activity?.SetTag("antflow.item.id", item.Id.ToString());
            activity?.SetTag("antflow.attempt", attempt);
            return activity;
        }
        catch (Exception)
        {
            activity?.Dispose();
            return null;
        }
    }

    public static void RecordItemDuration(string stage, TimeSpan duration)
    {
        if (ItemDuration.Enabled)
        {
            ItemDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));
        }
    }

    private static IEnumerable<Measurement<int>> ObserveQueueSizes()
    {
        foreach (Execution.PipelineEngine engine in RunningEngines.Keys)
        {
            foreach (Execution.IStageRuntime stage in engine.Stages)
            {
                yield return new Measurement<int>(stage.QueueSize, new KeyValuePair<string, object?>("stage", stage.Name));
            }
        }
    }

    private static IEnumerable<Measurement<int>> ObserveBusyWorkers()
    {
        foreach (Execution.PipelineEngine engine in RunningEngines.Keys)
        {
            foreach (Execution.IStageRuntime stage in engine.Stages)
            {
                int busy = 0;
                foreach (Execution.WorkerSlot slot in stage.Workers)
                {
                    busy += slot.IsBusy ? 1 : 0;
                }

                yield return new Measurement<int>(busy, new KeyValuePair<string, object?>("stage", stage.Name));
            }
        }
    }

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
