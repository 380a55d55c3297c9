using AntFlow.Dataflow;

namespace WebDashboard;

/// <summary>
/// The demo: documents go through Fetch -> Parse -> Save. Delays are heavy-tailed (most calls are quick, a few are
/// very slow), a few calls fail, and every task says what it is doing with <see cref="WorkerContext.SetTaskStatus"/>.
/// </summary>
internal static class DemoPipeline
{
    public const int FetchWorkers = 16;
    public const int ParseWorkers = 8;
    public const int SaveWorkers = 4;

    /// <summary>Builds the demo pipeline; <paramref name="tracker"/> is null for the placeholder shown before the first run.</summary>
    public static Pipeline<int, string> Create(StatusTracker? tracker, TimeProvider timeProvider)
    {
        PipelineBuilder<int, string> builder = Pipeline.Create<int>()
            .Stage("Fetch", stage => stage
                .Task("download", (int id, CancellationToken ct) => DownloadAsync(id, timeProvider, ct))
                .Workers(FetchWorkers)
                .Retry(RetryMode.PerStage, attempts: 3, delay: TimeSpan.FromMilliseconds(250)))
            .Stage("Parse", stage => stage
                .Task("parse", (Document doc, CancellationToken ct) => ParseAsync(doc, timeProvider, ct))
                .Task("validate", (Document doc, CancellationToken ct) => ValidateAsync(doc, timeProvider, ct))
                .Workers(ParseWorkers))
            .Stage("Save", stage => stage
                .Task("write", (Document doc, CancellationToken ct) => SaveAsync(doc, timeProvider, ct))
                .Workers(SaveWorkers))
            .WithTimeProvider(timeProvider)
            .CollectResults(false);
        return (tracker is null ? builder : builder.WithTracker(tracker)).Build();
    }

    private static async Task<Document> DownloadAsync(int id, TimeProvider time, CancellationToken ct)
    {
        // Pareto-distributed latency (alpha 1.6, 40 ms minimum, capped at 3 s): a long tail of slow responses.
        double ms = Math.Min(3_000, 40 / Math.Pow(1 - Random.Shared.NextDouble(), 1 / 1.6));
        int parts = ms > 400 ? 4 : 1;
        for (int part = 1; part <= parts; part++)
        {
            if (parts > 1)
            {
                WorkerContext.SetTaskStatus($"downloading part {part}/{parts}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(ms / parts), time, ct);
        }

        // A few documents are gone for good: every attempt fails, and the item fails after its last retry.
        if (id % 397 == 11)
        {
            throw new HttpRequestException($"404 Not Found: document {id}");
        }

        if (Random.Shared.NextDouble() < 0.04)
        {
            throw new HttpRequestException($"503 Service Unavailable while fetching document {id}");
        }

        return new Document(id, Words: 0);
    }

    private static async Task<Document> ParseAsync(Document doc, TimeProvider time, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(10, 40)), time, ct);
        return Random.Shared.NextDouble() < 0.015
            ? throw new FormatException($"document {doc.Id} is not well-formed: unexpected end of element")
            : doc with { Words = Random.Shared.Next(100, 5_000) };
    }

    private static async Task<Document> ValidateAsync(Document doc, TimeProvider time, CancellationToken ct)
    {
        WorkerContext.SetTaskStatus($"checking {doc.Words} words");
        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20)), time, ct);
        return doc;
    }

    private static async Task<string> SaveAsync(Document doc, TimeProvider time, CancellationToken ct)
    {
        WorkerContext.SetTaskStatus("waiting for the database");
        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(2, 15)), time, ct);
        WorkerContext.SetTaskStatus($"writing document {doc.Id}");
        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 15)), time, ct);
        return Random.Shared.NextDouble() < 0.01
            ? throw new IOException($"disk quota exceeded while writing document {doc.Id}")
            : $"document {doc.Id}: {doc.Words} words";
    }

    /// <summary>A document on its way through the pipeline.</summary>
    internal sealed record Document(int Id, int Words);
}
