// Monitoring: the status tracker, the dashboard helper and the end-of-run summaries.
//
// A StatusTracker records every item's story and calls subscribers as events happen (here: failures and retries
// are printed live). A PipelineDashboard calls onUpdate with a fresh snapshot every 500 ms (active workers with
// what they are doing, processed and failed counts). At the end: per-worker metrics and the error summary.
// Run: dotnet run --project examples/Monitoring
using AntFlow.Dataflow;

await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxHistoryPerItem = 32 });

// Subscribers run on the tracker's own loop, one event at a time, never on a pipeline worker.
using IDisposable failures = tracker.Subscribe((StatusEvent e) =>
{
    if (e.Status == ItemStatus.Failed)
    {
        Console.WriteLine($"  ! item {e.ItemId} failed in {e.Stage} on {e.Worker}: {e.Metadata["errorType"]}: {e.Metadata["error"]}");
    }

    return Task.CompletedTask;
});
using IDisposable retries = tracker.Subscribe((TaskEvent e) =>
{
    if (e.EventType == TaskEventType.Retry)
    {
        Console.WriteLine($"  ~ item {e.ItemId}: task '{e.TaskName}' attempt {e.Attempt} failed ({e.Error?.Message}), retrying");
    }

    return Task.CompletedTask;
});

int fetchCalls = 0;
Pipeline<int, string> pipeline = Pipeline.Create<int>()
    .Stage("Fetch", stage => stage
        .Task("fetch", async (int id, CancellationToken ct) =>
        {
            // Multi-step work reports its progress; dashboards show it as the worker's CurrentTask.
            for (int page = 1; page <= 3; page++)
            {
                WorkerContext.SetTaskStatus($"fetching page {page}/3");
                await Task.Delay(15 + (id * 7 % 20), ct);
            }

            // Every 20th item hits a transient error on its first call; the per-task retry fixes it.
            return id % 20 == 3 && Interlocked.Increment(ref fetchCalls) % 2 == 1
                ? throw new TimeoutException($"upstream timed out for item {id}")
                : $"payload {id}";
        })
        .Workers(6)
        .Retry(RetryMode.PerTask, attempts: 2, delay: TimeSpan.FromMilliseconds(50)))
    .Stage("Parse", stage => stage
        .Task("parse", async (string payload, CancellationToken ct) =>
        {
            await Task.Delay(25, ct);
            int id = int.Parse(payload.AsSpan(8), provider: null);
            return id % 25 == 11 ? throw new FormatException($"payload {id} is malformed") : id;
        })
        .Workers(3))
    .Stage("Save", async (int id, CancellationToken ct) =>
    {
        await Task.Delay(10, ct);
        return id % 40 == 17 ? throw new IOException($"disk full while saving {id}") : $"saved {id}";
    }, workers: 2)
    .WithTracker(tracker)
    .Build();

// The dashboard helper: onUpdate gets one consistent snapshot per tick (and a final one on dispose).
await using (var dashboard = new PipelineDashboard(pipeline, tracker, onUpdate: PrintUpdate, updateInterval: TimeSpan.FromMilliseconds(500)))
{
    dashboard.Start();
    await pipeline.RunAsync(Enumerable.Range(0, 120));
    await tracker.FlushAsync(); // every event has reached the subscribers
    Console.WriteLine("Run finished; the dashboard's final update:");
}

// Per-worker summary, in stage order then worker order.
Console.WriteLine();
Console.WriteLine("Worker        processed  failed   avg time");
IReadOnlyDictionary<string, WorkerMetrics> metrics = pipeline.GetWorkerMetrics();
foreach (string worker in pipeline.StageNames.SelectMany(stage => pipeline.GetWorkerNames()[stage]))
{
    WorkerMetrics m = metrics[worker];
    Console.WriteLine($"{worker,-12} {m.ItemsProcessed,10} {m.ItemsFailed,7} {m.AverageProcessingTime.TotalMilliseconds,8:F0} ms");
}

// Error summary from the tracker (the pipeline's GetErrorSummary() gives the same for its last run).
ErrorSummary errors = tracker.GetErrorSummary();
Console.WriteLine();
Console.WriteLine($"Failed items: {errors.TotalFailed}");
Console.WriteLine($"  by type:  {string.Join(", ", errors.ErrorsByType.Select(p => $"{p.Key} {p.Value}"))}");
Console.WriteLine($"  by stage: {string.Join(", ", errors.ErrorsByStage.Select(p => $"{p.Key} {p.Value}"))}");
foreach (FailedItem item in errors.FailedItems)
{
    Console.WriteLine($"  item {item.ItemId,3} in {item.Stage,-5} after {item.Attempts} attempt(s): {item.ErrorType}: {item.Error}");
}

Console.WriteLine($"Tracker counts: {string.Join(", ", tracker.GetStats().Where(p => p.Value > 0).Select(p => $"{p.Key} {p.Value}"))}");

static void PrintUpdate(DashboardSnapshot s)
{
    PipelineStats stats = s.PipelineStats;
    WorkerState[] busy = s.WorkerStates.Values.Where(w => w.Status == WorkerStatus.Busy).ToArray();
    Console.WriteLine($"[{s.Timestamp:HH:mm:ss.f}] processed {stats.ItemsProcessed,3}, failed {stats.ItemsFailed}, in flight {stats.ItemsInFlight,3}, "
        + $"queued {string.Join(" ", stats.QueueSizes.Select(q => $"{q.Key}:{q.Value}"))}; {busy.Length} worker(s) busy");
    foreach (WorkerState worker in busy.Take(3)) // a few of them, with what they are doing
    {
        Console.WriteLine($"    {worker.WorkerName} on item {worker.CurrentItemId}: {worker.CurrentTask}");
    }
}
