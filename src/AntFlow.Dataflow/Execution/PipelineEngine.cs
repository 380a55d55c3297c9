using AntFlow.Dataflow.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Execution;

/// <summary>
/// One run of a pipeline: the stages' blocks, the stop signal and the run-wide counters. The part stages need,
/// without the pipeline's input and output types.
/// </summary>
internal abstract class PipelineEngine
{
    private const int MaxRecentFailures = 1000;

    private readonly CancellationTokenSource _stop = new();
    private readonly long _startTimestamp;
    private readonly DateTimeOffset _startTime;
    private readonly FailureLog _failures = new(MaxRecentFailures);
    private long _fed;
    private long _processed;
    private long _failed;
    private long _cancelled;
    private long _skipped;

    protected PipelineEngine(TimeProvider timeProvider, StatusTracker? tracker, ILogger logger, ICheckpointStore? checkpoint)
    {
        TimeProvider = timeProvider;
        Tracker = tracker;
        Logger = logger;
        Checkpoint = checkpoint;
        _startTimestamp = timeProvider.GetTimestamp();
        _startTime = timeProvider.GetUtcNow();
    }

    public TimeProvider TimeProvider { get; }

    public long StartTimestamp => _startTimestamp;

    public StatusTracker? Tracker { get; }

    public ILogger Logger { get; }

    public ICheckpointStore? Checkpoint { get; }

    public abstract IReadOnlyList<IStageRuntime> Stages { get; }

    /// <summary>Cancelled by a hard stop: running tasks see it, queued items come out as Cancelled.</summary>
    public CancellationToken StopToken => _stop.Token;

    public bool IsStopping => _stop.IsCancellationRequested;

    public long Fed => Volatile.Read(ref _fed);

    public long Processed => Volatile.Read(ref _processed);

    public long Failed => Volatile.Read(ref _failed);

    public long Cancelled => Volatile.Read(ref _cancelled);

    public long Skipped => Volatile.Read(ref _skipped);

    public void Stop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (AggregateException ex)
        {
            // A user's cancellation callback threw; the stop itself went through.
            PipelineLog.CancellationCallbackFailed(Logger, ex);
        }
    }

    public void CountFed() => Interlocked.Increment(ref _fed);

    public DateTimeOffset ToTime(long timestamp) => _startTime + TimeProvider.GetElapsedTime(_startTimestamp, timestamp);

    /// <summary>Reports an item that ends without output: failed for good, or cancelled.</summary>
    public ValueTask EndAsync(object id, long sequence, int attempts, string stage, Exception error, ItemStatus status)
    {
        if (status == ItemStatus.Cancelled)
        {
            Interlocked.Increment(ref _cancelled);
        }
        else
        {
            Interlocked.Increment(ref _failed);
            RecordFailure(id, stage, error, attempts);
        }

        return EmitFailureAsync(id, sequence, attempts, stage, error, status);
    }

    /// <summary>Counts an item that came out of the last stage (the stage emits its result itself).</summary>
    public void CountProcessed(bool skipped)
    {
        Interlocked.Increment(ref _processed);
        if (skipped)
        {
            Interlocked.Increment(ref _skipped);
        }
    }

    public ErrorSummary GetErrorSummary() => _failures.GetSummary();

    /// <summary>Reports an item the checkpoint store says finished in an earlier run.</summary>
    public abstract ValueTask EmitCheckpointSkipAsync(object id, long sequence);

    protected abstract ValueTask EmitFailureAsync(object id, long sequence, int attempts, string stage, Exception error, ItemStatus status);

    private void RecordFailure(object id, string stage, Exception error, int attempts) =>
        _failures.Add(new FailedItem
        {
            ItemId = id,
            Error = error.Message,
            ErrorType = error.GetType().Name,
            Stage = stage,
            Attempts = attempts,
            Timestamp = TimeProvider.GetUtcNow(),
            Exception = error,
        });
}
