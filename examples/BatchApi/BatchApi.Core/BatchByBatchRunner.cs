using System.Collections.Concurrent;

namespace BatchApi;

/// <summary>
/// The usual way to process many batches, kept as a baseline: start a group of batches, wait with
/// <see cref="Task.WhenAll(IEnumerable{Task})"/> until every one of them is saved, then start the next group. Each
/// group waits for its slowest batch while the other slots sit idle.
/// </summary>
public sealed class BatchByBatchRunner
{
    private readonly BatchWorkflow _workflow;
    private readonly TimeProvider _time;

    /// <summary>Initializes a new instance of the <see cref="BatchByBatchRunner"/> class.</summary>
    /// <param name="workflow">The steps of one batch (the same HTTP client and store as the pipeline).</param>
    /// <param name="groupSize">Batches started together.</param>
    /// <param name="timeProvider">The clock for the makespan; the default is <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="workflow"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="groupSize"/> is less than 1.</exception>
    public BatchByBatchRunner(BatchWorkflow workflow, int groupSize = 10, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentOutOfRangeException.ThrowIfLessThan(groupSize, 1);
        _workflow = workflow;
        GroupSize = groupSize;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the number of batches started together.</summary>
    public int GroupSize { get; }

    /// <summary>Processes <paramref name="jobs"/> group by group. A failed batch is recorded and does not stop its group.</summary>
    /// <param name="jobs">The batches.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>How many were saved and failed, and how long it took.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="jobs"/> is null.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<BatchByBatchReport> RunAsync(IEnumerable<BatchJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        long started = _time.GetTimestamp();
        int saved = 0;
        var errors = new ConcurrentDictionary<string, Exception>(StringComparer.Ordinal);
        foreach (BatchJob[] group in jobs.Chunk(GroupSize))
        {
            await Task.WhenAll(group.Select(async job =>
            {
                try
                {
                    await _workflow.ProcessAsync(job, cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref saved);
                }
                catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    errors[job.BatchId] = error;
                }
            })).ConfigureAwait(false);
        }

        return new BatchByBatchReport(saved, errors.Count, _time.GetElapsedTime(started), errors);
    }
}
