// Resume: a run that crashes part-way, and a re-run that skips the work already finished.
//
// WithCheckpoint(store) asks the store, before an item's first stage, whether the item finished in an earlier
// run (then it comes out as Skipped without running anything), and tells the store when an item finishes the
// last stage. FileCheckpointStore (in this folder) keeps the finished ids in a text file, so the marks survive a
// process restart. A SQLite-backed store comes with the BatchApi example.
//
// Run:
//   dotnet run --project examples/Resume                               # both runs in one go: crash after 12, then resume
//   dotnet run --project examples/Resume -- --reset --crash-after 10   # one run from an empty file, crashing after 10
//   dotnet run --project examples/Resume -- --resume                   # a new process resumes from the file, to the end
// --crash-after N without --reset continues from the file's state; --checkpoint PATH uses another file.
using System.Collections.Concurrent;
using AntFlow.Dataflow;

string path = ReadOption(args, "--checkpoint", Path.Combine(Path.GetTempPath(), "antflow-resume-example.checkpoint"));
int crashAfter = ReadOption(args, "--crash-after", 0);
string[] documents = Enumerable.Range(1, 30).Select(i => $"doc-{i:D2}").ToArray();
if (args.Contains("--reset"))
{
    File.Delete(path);
}

if (crashAfter == 0 && !args.Contains("--resume"))
{
    // The whole story in one process: start from an empty file, crash, then resume with a new store object that
    // knows only what the file says (exactly what a restarted process would see).
    File.Delete(path);
    await RunAsync(documents, path, crashAfter: 12);
    Console.WriteLine();
    await RunAsync(documents, path, crashAfter: 0);
}
else
{
    await RunAsync(documents, path, crashAfter);
}

static async Task RunAsync(string[] documents, string path, int crashAfter)
{
    await using FileCheckpointStore store = await FileCheckpointStore.OpenAsync(path);
    HashSet<string> finishedBefore = [.. store.CompletedIds];
    Console.WriteLine($"Run {(crashAfter > 0 ? $"that crashes after {crashAfter} items" : "to the end")}: {path} lists {store.Count} finished document(s).");

    using var crash = new CancellationTokenSource();
    var ran = new ConcurrentQueue<string>(); // documents whose work actually started in this run
    int finished = 0;

    Pipeline<string, string> pipeline = Pipeline.Create<string>()
        .Stage("Download", async (string doc, CancellationToken ct) =>
        {
            ran.Enqueue(doc);
            await Task.Delay(40 + (int.Parse(doc.AsSpan(4), provider: null) * 37 % 60), ct); // stands in for slow I/O
            return $"<{doc}>";
        }, workers: 4)
        .Stage("Convert", async (string content, CancellationToken ct) =>
        {
            await Task.Delay(20, ct);
            if (Interlocked.Increment(ref finished) == crashAfter)
            {
                // The "crash": stop everything now. Items still running or queued come out as Cancelled and are
                // not marked, so the next run does them again. This item itself still finishes and is marked.
                await crash.CancelAsync();
            }

            return content.ToUpperInvariant();
        }, workers: 2)
        .WithIdSelector(doc => doc) // ids must be stable across runs: a business key, not the input position
        .WithCheckpoint(store)
        .Build();

    try
    {
        IReadOnlyList<PipelineResult<string>> results = await pipeline.RunAsync(documents, crash.Token);

        // Items the checkpoint skipped come out as successes with status Skipped and no value.
        Console.WriteLine($"  Finished: {results.Count(r => r.Status == ItemStatus.Completed)} completed now, "
            + $"{results.Count(r => r.Status == ItemStatus.Skipped)} skipped (finished in an earlier run), {results.Count(r => !r.IsSuccess)} failed.");
    }
    catch (OperationCanceledException)
    {
        Console.WriteLine($"  Crashed: RunAsync threw OperationCanceledException after {crashAfter} item(s) finished.");
    }

    string[] ranNow = ran.Order(StringComparer.Ordinal).ToArray();
    Console.WriteLine($"  Work started for {ranNow.Length} document(s): {string.Join(", ", ranNow)}");
    Console.WriteLine($"  Of those, finished in an earlier run: {ranNow.Count(finishedBefore.Contains)}");
    Console.WriteLine($"  {path} now lists {store.Count} of {documents.Length} documents.");
}

static T ReadOption<T>(string[] args, string name, T fallback)
    where T : IParsable<T>
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? T.Parse(args[index + 1], provider: null) : fallback;
}
