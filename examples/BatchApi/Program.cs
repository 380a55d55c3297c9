// Batch API example: upload batches to a batch API, wait for each, download the results and save them in SQLite,
// with a worker pool per step. Stop it (Ctrl+C) and run it again: it resumes where it stopped.
// Run: dotnet run --project examples/BatchApi [-- --batches 100] [--db batches.db] [--service URL] [--plain] [--compare] [--fresh]
using System.Globalization;
using AntFlow.Dataflow;
using AntFlow.Dataflow.Console;
using BatchApi;
using FakeBatchService;
using Spectre.Console;

int batches = ReadOption(args, "--batches", 100);
string db = ReadOption(args, "--db", "batches.db");
string? serviceUrl = ReadOption<string?>(args, "--service", null);
bool plain = args.Contains("--plain");
bool compare = args.Contains("--compare");
if (args.Contains("--fresh"))
{
    DeleteDatabase(db);
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops the run cleanly (saved batches stay saved); a second one ends the process.
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};

// Without --service, the fake batch service runs in this process on a free loopback port.
await using FakeBatchServer? server = serviceUrl is null ? await FakeBatchServer.StartAsync(new FakeBatchServiceOptions(), cancel.Token) : null;
Uri service = server?.BaseAddress ?? new Uri(serviceUrl!);
Console.WriteLine($"Batch service: {service} ({(server is null ? "external" : "in-process fake")}); database: {Path.GetFullPath(db)}");

IReadOnlyList<BatchJob> jobs = BatchJob.CreateSamples(batches);
// Calls to the fake service answer in milliseconds: a call still silent after 2 s has hung.
var clientOptions = new BatchApiClientOptions { AttemptTimeout = TimeSpan.FromSeconds(2) };
using var client = new BatchApiClient(service, clientOptions);
await using SqliteBatchResultStore store = await SqliteBatchResultStore.OpenFileAsync(db);
await using SqliteCheckpointStore checkpoint = await SqliteCheckpointStore.OpenFileAsync(db, "batch-api");
await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxHistoryPerItem = 32 });
int stageRetries = 0;
using IDisposable retries = tracker.Subscribe(e =>
{
    if (e.Status == ItemStatus.Retrying)
    {
        Interlocked.Increment(ref stageRetries);
    }

    return Task.CompletedTask;
});

await using Pipeline<BatchJob, BatchResultRecord> pipeline = BatchPipeline.Create(client, store, new BatchPipelineOptions
{
    Checkpoint = checkpoint,
    Tracker = tracker,
});

IPipelineDisplay display = plain
    ? new ProgressDisplay(AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Interactive = InteractionSupport.No, Out = new AnsiConsoleOutput(Console.Out) }))
    : new FullDashboard();

long started = TimeProvider.System.GetTimestamp();
IReadOnlyList<PipelineResult<BatchResultRecord>> results;
try
{
    results = await pipeline.RunAsync(jobs, new RunOptions { Display = display, UpdateInterval = TimeSpan.FromMilliseconds(500) }, cancel.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine($"Stopped. {await store.CountAsync()} of {batches} batches are saved in {db}; run again to finish the rest.");
    return 130;
}

TimeSpan pipelineTime = TimeProvider.System.GetElapsedTime(started);
await tracker.FlushAsync();
int skipped = results.Count(r => r.Status == ItemStatus.Skipped);
PipelineResult<BatchResultRecord>[] failed = results.Where(r => !r.IsSuccess).ToArray();
BatchApiClientStats http = client.GetStats();
Console.WriteLine();
Console.WriteLine($"Pipeline:        {Seconds(pipelineTime)} for {batches} batches: {results.Count - failed.Length - skipped} saved, {skipped} already saved earlier, {failed.Length} failed");
Console.WriteLine($"Rows in {db}: {await store.CountAsync()}");
Console.WriteLine($"HTTP:            {http.Attempts} attempts; {http.ThrottledResponses} × 429 and {http.ServerErrorResponses} × 5xx received, {http.Timeouts} timeouts; "
    + $"{http.Retries} retried by the client (waited {Seconds(http.RetryAfterWaited)} in Retry-After), {stageRetries} retried by a stage");
if (server is not null)
{
    FakeBatchServiceStats stats = server.GetStats();
    Console.WriteLine($"Service:         {stats.TotalRequests} calls, {stats.BatchesCreated} batches, {stats.Throttled} × 429 ({stats.RateLimited} rate limit), "
        + $"{stats.ServerErrors} × 500, {stats.Hangs} hung, {stats.DuplicateUploads} repeated uploads answered by idempotency key");
}

foreach (PipelineResult<BatchResultRecord> failure in failed)
{
    Console.WriteLine($"  {failure.Id} failed in {failure.FailedStage} after {failure.Attempts} attempt(s): {failure.Error!.Message}");
}

if (compare)
{
    // Same service, same client settings, other idempotency keys (so the baseline gets batches of its own, with the
    // same processing times) and its own database file.
    string baselineDb = Path.ChangeExtension(db, ".baseline.db");
    DeleteDatabase(baselineDb);
    using var baselineClient = new BatchApiClient(service, new BatchApiClientOptions { AttemptTimeout = clientOptions.AttemptTimeout, IdempotencyKeyPrefix = "baseline/" });
    await using SqliteBatchResultStore baselineStore = await SqliteBatchResultStore.OpenFileAsync(baselineDb);
    var runner = new BatchByBatchRunner(new BatchWorkflow(baselineClient, baselineStore, new BatchPipelineOptions().PollInterval), groupSize: 10);
    Console.WriteLine();
    Console.WriteLine("Batch by batch (groups of 10, Task.WhenAll) ...");
    BatchByBatchReport baseline;
    try
    {
        baseline = await runner.RunAsync(jobs, cancel.Token);
    }
    catch (OperationCanceledException)
    {
        Console.WriteLine("Baseline stopped.");
        return 130;
    }

    Console.WriteLine($"Batch by batch:  {Seconds(baseline.Elapsed)} for {batches} batches: {baseline.Saved} saved, {baseline.Failed} failed");
    if (skipped == 0 && failed.Length == 0)
    {
        Console.WriteLine($"Pipeline makespan {Seconds(pipelineTime)} vs batch by batch {Seconds(baseline.Elapsed)}: {baseline.Elapsed / pipelineTime:F1}x faster");
    }
    else
    {
        Console.WriteLine("(The pipeline run resumed an earlier one, so its makespan is not comparable; use --fresh.)");
    }
}

return failed.Length == 0 ? 0 : 1;

static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) + " s";

static void DeleteDatabase(string path)
{
    foreach (string file in new[] { path, path + "-wal", path + "-shm" })
    {
        File.Delete(file);
    }
}

static T ReadOption<T>(string[] args, string name, T fallback)
{
    int index = Array.IndexOf(args, name);
    if (index < 0 || index + 1 >= args.Length)
    {
        return fallback;
    }

    string value = args[index + 1];
    return typeof(T) == typeof(int) ? (T)(object)int.Parse(value, CultureInfo.InvariantCulture) : (T)(object)value;
}
