// Priority: urgent items overtake a backlog, and items can be injected into a later stage.
//
// A started pipeline gets a backlog of 2,000 normal jobs (priority 100); once 100 of them have started, five
// urgent jobs (priority 0) follow. Each stage keeps its waiting items in a priority queue and a free worker
// takes the lowest priority value next, so the urgent jobs start right away although they were fed last.
// Priority travels with the item into later stages. Finally, ready-made documents skip "Fetch" and go
// straight into "Process".
// Run: dotnet run --project examples/Priority
using System.Collections.Concurrent;
using AntFlow.Dataflow;

const int Backlog = 2_000;
int[] urgent = [10_001, 10_002, 10_003, 10_004, 10_005];

// Start order per stage: each task takes a ticket when it starts.
int fetchTickets = 0;
int processTickets = 0;
var fetchStartedAt = new ConcurrentDictionary<string, int>();
var processStartedAt = new ConcurrentDictionary<string, int>();
var backlogRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

await using Pipeline<int, string> pipeline = Pipeline.Create<int>()
    .Stage("Fetch", stage => stage
        .Task("fetch", async (int job, CancellationToken ct) =>
        {
            int ticket = Interlocked.Increment(ref fetchTickets);
            fetchStartedAt[$"job {job}"] = ticket;
            if (ticket == 100)
            {
                backlogRunning.TrySetResult();
            }

            await Task.Delay(1, ct);
            return $"job {job}";
        })
        .Workers(8)
        // Large enough to hold the whole backlog. With a small bounded queue FeedAsync waits for room, and
        // an item that is still waiting to get in cannot overtake the ones already inside.
        .QueueCapacity(4_000))
    .Stage("Process", stage => stage
        .Task("process", async (string doc, CancellationToken ct) =>
        {
            processStartedAt[doc] = Interlocked.Increment(ref processTickets);
            await Task.Delay(1, ct);
            return doc.ToUpperInvariant();
        })
        .Workers(4) // slower than Fetch, so a backlog builds up here too
        .QueueCapacity(4_000))
    .Build();

pipeline.Start();

// Feed positions continue across FeedAsync calls: the backlog is 1..2000, the urgent jobs 2001..2005.
await pipeline.FeedAsync(Enumerable.Range(1, Backlog));  // priority 100 (the default)
await backlogRunning.Task;                               // let the backlog get going first
await pipeline.FeedAsync(urgent, priority: 0);           // lower number = served first
Console.WriteLine($"Fed {Backlog} normal jobs; once 100 had started, {urgent.Length} urgent jobs (priority 0).");

// Inject straight into "Process": its input type is string, so the type argument says string. A wrong type
// or an unknown stage name throws ArgumentException.
string[] ready = ["ready-made doc A", "ready-made doc B"];
await pipeline.FeedAsync<string>(ready, targetStage: "Process", priority: 0);
try
{
    await pipeline.FeedAsync<int>([42], targetStage: "Process");
}
catch (ArgumentException ex)
{
    Console.WriteLine($"Wrong type for \"Process\" is refused: {ex.Message}");
}

await pipeline.CompleteAsync(); // waits until every fed item is out

Console.WriteLine();
// Among equal priorities the order is FIFO. The urgent jobs reach Process in the order Fetch finished them,
// which is whatever order their I/O completed in.
Console.WriteLine("Urgent job   fed as #   started Fetch as #   started Process as #");
for (int i = 0; i < urgent.Length; i++)
{
    string doc = $"job {urgent[i]}";
    Console.WriteLine($"{urgent[i],10}   {Backlog + i + 1,8}   {fetchStartedAt[doc],18}   {processStartedAt[doc],20}");
}

Console.WriteLine();
Console.WriteLine("Injected into Process   fed as #   started Process as #");
for (int i = 0; i < ready.Length; i++)
{
    Console.WriteLine($"{ready[i],21}   {Backlog + urgent.Length + i + 1,8}   {processStartedAt[ready[i]],20}");
}

// Results come back in feed order, whatever order they ran in; the injected items are part of the run.
IReadOnlyList<PipelineResult<string>> results = pipeline.Results;
Console.WriteLine();
Console.WriteLine($"{results.Count} results, {results.Count(r => r.IsSuccess)} succeeded; the last one: {results[^1]}");
