using AntFlow.Dataflow;
using Microsoft.Extensions.Logging;

namespace BatchApi;

/// <summary>How <see cref="BatchPipeline"/> sizes and configures its four stages.</summary>
public sealed class BatchPipelineOptions
{
    /// <summary>Gets or sets the number of Upload workers (each renders a batch, then uploads it).</summary>
    /// <value>The default value is 10.</value>
    public int UploadWorkers { get; set; } = 10;

    /// <summary>Gets or sets how many uploads may be in flight at once (the <c>upload</c> task's concurrency limit); rendering is not limited.</summary>
    /// <value>The default value is 5.</value>
    public int UploadConcurrency { get; set; } = 5;

    /// <summary>
    /// Gets or sets the number of Poll workers: how many batches are watched at once. A worker stays with its batch
    /// until it completes, so this should cover the batches the service processes at the same time.
    /// </summary>
    /// <value>The default value is 100.</value>
    public int PollWorkers { get; set; } = 100;

    /// <summary>Gets or sets the wait between two status calls for one batch.</summary>
    /// <value>The default value is 500 milliseconds.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the longest the Poll stage waits for one batch before failing it (and trying again).</summary>
    /// <value>The default value is 1 hour.</value>
    public TimeSpan MaxWaitPerBatch { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets the number of Download workers.</summary>
    /// <value>The default value is 10.</value>
    public int DownloadWorkers { get; set; } = 10;

    /// <summary>Gets or sets the number of Save workers (SQLite takes one writer at a time; two keep it busy).</summary>
    /// <value>The default value is 2.</value>
    public int SaveWorkers { get; set; } = 2;

    /// <summary>
    /// Gets or sets the attempts per stage for failures that outlast the HTTP client's own retries: the whole item
    /// goes back to the stage's queue after <see cref="StageRetryDelay"/> (doubling), and its worker moves on meanwhile.
    /// </summary>
    /// <value>The default value is 5.</value>
    public int StageAttempts { get; set; } = 5;

    /// <summary>Gets or sets the first delay before an item is tried again in its stage.</summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan StageRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the checkpoint store (for example <see cref="SqliteCheckpointStore"/>) that lets a new run skip saved batches.</summary>
    /// <value>The default value is <see langword="null"/>: every batch is processed.</value>
    public ICheckpointStore? Checkpoint { get; set; }

    /// <summary>Gets or sets the status tracker that records every batch's journey.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public StatusTracker? Tracker { get; set; }

    /// <summary>Gets or sets the logger factory of the pipeline.</summary>
    /// <value>The default value is <see langword="null"/>: nothing is logged.</value>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets a callback called once per saved batch, after its row is written. Exceptions are logged and ignored.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public Action<BatchResultRecord>? OnSaved { get; set; }

    /// <summary>Gets or sets the clock for polling, retries and timestamps.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
