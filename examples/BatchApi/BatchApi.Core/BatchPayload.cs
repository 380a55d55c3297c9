using System.Text.Json;

namespace BatchApi;

/// <summary>A batch rendered into the JSON body that <c>POST /batches</c> takes.</summary>
/// <param name="Job">The batch.</param>
/// <param name="Content">The UTF-8 JSON body.</param>
public sealed record BatchPayload(BatchJob Job, ReadOnlyMemory<byte> Content)
{
    /// <summary>Renders <paramref name="job"/>.</summary>
    /// <param name="job">The batch.</param>
    /// <returns>The payload.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="ArgumentException">The batch has no requests, or two requests share a custom id.</exception>
    public static BatchPayload Create(BatchJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Requests is not { Count: > 0 })
        {
            throw new ArgumentException($"Batch '{job.BatchId}' has no requests.", nameof(job));
        }

        if (job.Requests.Select(r => r.CustomId).Distinct(StringComparer.Ordinal).Count() != job.Requests.Count)
        {
            throw new ArgumentException($"Batch '{job.BatchId}' has two requests with the same custom id.", nameof(job));
        }

        var body = new WireCreateBatch(job.Requests.Select(r => new WireRequest(r.CustomId, r.Body)).ToArray());
        return new BatchPayload(job, JsonSerializer.SerializeToUtf8Bytes(body, WireJson.Options));
    }
}
