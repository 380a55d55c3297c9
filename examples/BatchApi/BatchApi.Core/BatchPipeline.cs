using AntFlow.Dataflow;
using Polly.Timeout;

namespace BatchApi;

/// <summary>
/// Builds the batch pipeline: Upload (render, then upload with a concurrency limit) → Poll (until completed) →
/// Download → Save (SQLite upsert). Items are <see cref="BatchJob"/>s, identified by <see cref="BatchJob.BatchId"/>.
/// </summary>
public static class BatchPipeline
{
    /// <summary>The stage names, in order.</summary>
    public static readonly IReadOnlyList<string> StageNames = ["Upload", "Poll", "Download", "Save"];

    /// <summary>Builds the pipeline.</summary>
    /// <param name="client">The batch API client.</param>
    /// <param name="store">Where results are saved.</param>
    /// <param name="options">Stage sizes, retries, checkpoint and tracker; <see langword="null"/> for the defaults.</param>
    /// <returns>The pipeline; its results are the saved rows.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="store"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="BatchPipelineOptions.PollInterval"/> is not positive.</exception>
    /// <exception cref="StageValidationException">A stage setting is invalid (workers, attempts, delays).</exception>
    public static Pipeline<BatchJob, BatchResultRecord> Create(BatchApiClient client, SqliteBatchResultStore store, BatchPipelineOptions? options = null)
    {
        options ??= new BatchPipelineOptions();
        var workflow = new BatchWorkflow(client, store, options.PollInterval, options.TimeProvider);
        Action<BatchResultRecord>? onSaved = options.OnSaved;

        PipelineBuilder<BatchJob, BatchResultRecord> builder = Pipeline.Create<BatchJob>()
            .Stage("Upload", stage => stage
                .Task("render", (BatchJob job) => BatchPayload.Create(job))
                .Task("upload", (BatchPayload payload, CancellationToken ct) => workflow.UploadAsync(payload, ct), concurrencyLimit: options.UploadConcurrency)
                .Workers(options.UploadWorkers)
                .Retry(RetryMode.PerStage, options.StageAttempts, options.StageRetryDelay, IsTransient))
            .Stage("Poll", stage => stage
                .Task("poll", (UploadedBatch batch, CancellationToken ct) => workflow.WaitForCompletionAsync(batch, ct))
                .Workers(options.PollWorkers)
                .Timeout(options.MaxWaitPerBatch)
                .Retry(RetryMode.PerStage, options.StageAttempts, options.StageRetryDelay, IsTransient))
            .Stage("Download", stage => stage
                .Task("download", (UploadedBatch batch, CancellationToken ct) => workflow.DownloadAsync(batch, ct))
                .Workers(options.DownloadWorkers)
                .Retry(RetryMode.PerStage, options.StageAttempts, options.StageRetryDelay, IsTransient))
            .Stage("Save", stage =>
            {
                StageBuilder<DownloadedBatch, BatchResultRecord> save = stage
                    .Task("save", (DownloadedBatch batch, CancellationToken ct) => workflow.SaveAsync(batch, ct))
                    .Workers(options.SaveWorkers)
                    .Retry(RetryMode.PerStage, options.StageAttempts, options.StageRetryDelay, IsTransient);
                return onSaved is null ? save : save.OnSuccess((_, record) => onSaved(record));
            })
            .WithIdSelector(job => job.BatchId)
            .WithTimeProvider(options.TimeProvider);

        if (options.Checkpoint is { } checkpoint)
        {
            builder = builder.WithCheckpoint(checkpoint);
        }

        if (options.Tracker is { } tracker)
        {
            builder = builder.WithTracker(tracker);
        }

        if (options.LoggerFactory is { } loggerFactory)
        {
            builder = builder.WithLogging(loggerFactory);
        }

        return builder.Build();
    }

    /// <summary>
    /// Whether a stage should try an item again: answers that may succeed later (429, 408, 5xx), timeouts and lost
    /// connections, and a database that is busy. Not: refused batches (4xx), bad data, cancellation.
    /// </summary>
    /// <param name="error">The failure.</param>
    /// <returns><see langword="true"/> to try again.</returns>
    public static bool IsTransient(Exception error) => error switch
    {
        BatchApiException api => api.IsTransient,
        TimeoutRejectedException or TimeoutException or HttpRequestException => true,
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode is 5 or 6, // SQLITE_BUSY, SQLITE_LOCKED
        _ => false,
    };
}
