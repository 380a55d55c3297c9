// QuickStart: 200 documents through Fetch -> Parse -> Save, with slow, flaky "I/O".
// Run: dotnet run --project examples/QuickStart [-- --dashboard progress|compact|detailed|full] [--items N]
using System.Diagnostics;
using AntFlow.Dataflow;
using AntFlow.Dataflow.Console;

int items = ReadOption(args, "--items", 200);
string dashboard = ReadOption(args, "--dashboard", "progress");
IPipelineDisplay display = dashboard switch
{
    "compact" => new CompactDashboard(),
    "detailed" => new DetailedDashboard(),
    "full" => new FullDashboard(),
    "progress" => new ProgressDisplay(),
    _ => throw new ArgumentException($"Unknown --dashboard '{dashboard}'; use progress, compact, detailed or full."),
};

// Heavy-tailed latencies, fixed seed: most calls are quick, one in ten is 10-20x slower.
var random = new Random(7);
int[] fetchMs = Enumerable.Range(0, items).Select(_ => random.NextDouble() < 0.9 ? random.Next(20, 60) : random.Next(400, 900)).ToArray();
int[] parseMs = Enumerable.Range(0, items).Select(_ => random.Next(5, 25)).ToArray();
int flakyCalls = 0;

// Fetch retries are per stage: the whole item goes back to the queue, and other items keep flowing.
Pipeline<int, string> pipeline = Pipeline.Create<int>()
    .Stage("Fetch", stage => stage
        .Task("fetch", async (int id, CancellationToken ct) =>
        {
            await Task.Delay(fetchMs[id], ct);
            if (id % 25 == 7 && Interlocked.Increment(ref flakyCalls) % 3 != 0)
            {
                throw new HttpRequestException($"503 while fetching document {id}");
            }

            return $"<doc id={id}>";
        })
        .Workers(20)
        .Retry(RetryMode.PerStage, attempts: 3, delay: TimeSpan.FromMilliseconds(100)))
    .Stage("Parse", stage => stage
        .Task("parse", async (string html, CancellationToken ct) =>
        {
            int id = int.Parse(html.AsSpan(8, html.Length - 9), provider: null);
            await Task.Delay(parseMs[id], ct);
            return id % 50 == 13 ? throw new FormatException($"document {id} is not valid XML") : (id, words: 100 + (id * 7 % 900));
        })
        .Workers(8))
    .Stage("Save", async ((int id, int words) doc, CancellationToken ct) =>
    {
        await Task.Delay(10, ct);
        return $"doc {doc.id}: {doc.words} words";
    }, workers: 4)
    .Build();

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var stopwatch = Stopwatch.StartNew();
IReadOnlyList<PipelineResult<string>> results = await pipeline.RunAsync(
    Enumerable.Range(0, items),
    new RunOptions { Display = display, UpdateInterval = TimeSpan.FromMilliseconds(250) },
    cancel.Token);
stopwatch.Stop();

PipelineResult<string>[] failed = results.Where(r => !r.IsSuccess).ToArray();
Console.WriteLine();
Console.WriteLine($"Succeeded: {results.Count - failed.Length} of {results.Count}");
Console.WriteLine($"Retried:   {results.Count(r => r.Attempts > 1)} item(s) needed more than one attempt");
Console.WriteLine($"Failed:    {failed.Length}");
foreach (PipelineResult<string> failure in failed)
{
    Console.WriteLine($"  item {failure.Id} in {failure.FailedStage} after {failure.Attempts} attempt(s): {failure.Error!.GetType().Name}: {failure.Error.Message}");
}

// What the same work costs when done batch by batch (each batch of 20 waits for its slowest item in each step).
double batchMs = Enumerable.Range(0, items).Chunk(20).Sum(batch => batch.Max(i => fetchMs[i]) + batch.Max(i => parseMs[i]) + 10);
Console.WriteLine($"Elapsed:   {stopwatch.Elapsed.TotalSeconds:F2} s with AntFlow workers (batch-by-batch estimate: {batchMs / 1000:F2} s, ideal lower bound without retries)");

static T ReadOption<T>(string[] args, string name, T fallback)
    where T : IParsable<T>
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? T.Parse(args[index + 1], provider: null) : fallback;
}
