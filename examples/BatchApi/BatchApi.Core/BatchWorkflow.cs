using System.Globalization;
using AntFlow.Dataflow;

namespace BatchApi;

/// <summary>
/// The four steps of processing one batch (upload, wait, download, save), shared by the pipeline
/// (<see cref="BatchPipeline"/>) and the batch-by-batch baseline (<see cref="BatchByBatchRunner"/>).
/// </summary>
public sealed class BatchWorkflow
{
    private readonly TimeProvider _time;

    /// <summary>Initializes a new instance of the <see cref="BatchWorkflow"/> class.</summary>
    /// <param name="client">The batch API client.</param>
    /// <param name="store">Where results are saved.</param>
    /// <param name="pollInterval">The wait between two status calls for one batch.</param>
    /// <param name="timeProvider">The clock for the waits; the default is <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="store"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pollInterval"/> is not positive.</exception>
    public BatchWorkflow(BatchApiClient client, SqliteBatchResultStore store, TimeSpan pollInterval, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        Client = client;
        Store = store;
        PollInterval = pollInterval;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the batch API client.</summary>
    public BatchApiClient Client { get; }

    /// <summary>Gets the result store.</summary>
    public SqliteBatchResultStore Store { get; }

    /// <summary>Gets the wait between two status calls for one batch.</summary>
    public TimeSpan PollInterval { get; }

    /// <summary>Uploads a rendered batch.</summary>
    /// <param name="payload">The rendered batch.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>The batch as the service accepted it.</returns>
    /// <exception cref="BatchApiException">The service refused the batch.</exception>
    public async Task<UploadedBatch> UploadAsync(BatchPayload payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        BatchInfo info = await Client.CreateBatchAsync(payload, cancellationToken).ConfigureAwait(false);
        return new UploadedBatch(payload.Job, info);
    }

    /// <summary>
    /// Asks for the batch's state every <see cref="PollInterval"/> until it is completed. Inside a pipeline worker the
    /// progress shows as the worker's current task, for example <c>in_progress 3/10, poll 4</c>.
    /// </summary>
    /// <param name="batch">The uploaded batch.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The batch, completed.</returns>
    /// <exception cref="BatchApiException">A status call failed, or the batch failed, expired or was cancelled on the service.</exception>
    public async Task<UploadedBatch> WaitForCompletionAsync(UploadedBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        BatchInfo info = batch.Info;
        int polls = 0;
        while (!info.IsCompleted)
        {
            if (info.IsFailed)
            {
                throw new BatchApiException($"Batch '{batch.Job.BatchId}' ({info.Id}) ended as {info.Status} on the service.");
            }

            // The service offers no notification: asking at a steady pace is the only way to learn about completion.
            await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
            info = await Client.GetBatchAsync(info.Id, cancellationToken).ConfigureAwait(false);
            polls++;
            WorkerContext.SetTaskStatus(string.Create(CultureInfo.InvariantCulture, $"{info.Status} {info.CompletedRequests}/{info.TotalRequests}, poll {polls}"));
        }

        return batch with { Info = info };
    }

    /// <summary>Downloads a completed batch's results and checks that every request has exactly one answer.</summary>
    /// <param name="batch">The completed batch.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The batch with its results, in request order.</returns>
    /// <exception cref="BatchApiException">The download failed.</exception>
    /// <exception cref="InvalidDataException">The results do not match the requests.</exception>
    public async Task<DownloadedBatch> DownloadAsync(UploadedBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        IReadOnlyList<BatchOutput> outputs = await Client.GetResultsAsync(batch.Info.Id, cancellationToken).ConfigureAwait(false);
        var byId = new Dictionary<string, BatchOutput>(StringComparer.Ordinal);
        foreach (BatchOutput output in outputs)
        {
            if (!byId.TryAdd(output.CustomId, output))
            {
                throw new InvalidDataException($"Batch '{batch.Job.BatchId}' has two results for '{output.CustomId}'.");
            }
        }

        var ordered = new BatchOutput[batch.Job.Requests.Count];
        for (int i = 0; i < ordered.Length; i++)
        {
            string customId = batch.Job.Requests[i].CustomId;
            ordered[i] = byId.GetValueOrDefault(customId)
                ?? throw new InvalidDataException($"Batch '{batch.Job.BatchId}' has no result for '{customId}'.");
        }

        if (byId.Count != ordered.Length)
        {
            throw new InvalidDataException($"Batch '{batch.Job.BatchId}' has {byId.Count} results for {ordered.Length} requests.");
        }

        return new DownloadedBatch(batch.Job, batch.Info, ordered);
    }

    /// <summary>Saves a downloaded batch (an upsert: one row per batch).</summary>
    /// <param name="batch">The batch with its results.</param>
    /// <param name="cancellationToken">Cancels the save if it has not started writing.</param>
    /// <returns>The saved row.</returns>
    public Task<BatchResultRecord> SaveAsync(DownloadedBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        cancellationToken.ThrowIfCancellationRequested();
        return Store.SaveAsync(batch, cancellationToken);
    }

    /// <summary>Runs all four steps for one batch, one after the other.</summary>
    /// <param name="job">The batch.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The saved row.</returns>
    public async Task<BatchResultRecord> ProcessAsync(BatchJob job, CancellationToken cancellationToken = default)
    {
        UploadedBatch uploaded = await UploadAsync(BatchPayload.Create(job), cancellationToken).ConfigureAwait(false);
        UploadedBatch completed = await WaitForCompletionAsync(uploaded, cancellationToken).ConfigureAwait(false);
        DownloadedBatch downloaded = await DownloadAsync(completed, cancellationToken).ConfigureAwait(false);
        return await SaveAsync(downloaded, cancellationToken).ConfigureAwait(false);
    }
}
