using System.Globalization;

namespace BatchApi;

/// <summary>A batch to process: a stable id (also the upload's idempotency key and the database key) and its requests.</summary>
/// <param name="BatchId">The batch's stable id, for example <c>batch-0042</c>.</param>
/// <param name="Requests">The requests, at least one.</param>
public sealed record BatchJob(string BatchId, IReadOnlyList<BatchRequest> Requests)
{
    /// <summary>Makes <paramref name="count"/> sample batches (<c>batch-0000</c>, <c>batch-0001</c>, ...), the same every time.</summary>
    /// <param name="count">How many batches.</param>
    /// <param name="requestsPerBatch">Requests in each batch.</param>
    /// <returns>The batches, in id order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or <paramref name="requestsPerBatch"/> is less than 1.</exception>
    public static IReadOnlyList<BatchJob> CreateSamples(int count, int requestsPerBatch = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerBatch, 1);
        var jobs = new BatchJob[count];
        for (int i = 0; i < count; i++)
        {
            string batchId = string.Create(CultureInfo.InvariantCulture, $"batch-{i:D4}");
            var requests = new BatchRequest[requestsPerBatch];
            for (int r = 0; r < requestsPerBatch; r++)
            {
                requests[r] = new BatchRequest(
                    string.Create(CultureInfo.InvariantCulture, $"{batchId}/req-{r:D3}"),
                    string.Create(CultureInfo.InvariantCulture, $"summarise document {(i * requestsPerBatch) + r} of the archive in one line"));
            }

            jobs[i] = new BatchJob(batchId, requests);
        }

        return jobs;
    }
}
