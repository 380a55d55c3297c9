using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow;

/// <summary>Source-generated log messages of <see cref="AsyncExecutor"/> (event ids 3000-3099).</summary>
internal static partial class ExecutorLog
{
    [LoggerMessage(EventId = 3000, EventName = "ExecutorCreated", Level = LogLevel.Debug,
        Message = "Executor created with {MaxWorkers} workers")]
    public static partial void ExecutorCreated(ILogger logger, int maxWorkers);

    [LoggerMessage(EventId = 3001, EventName = "JobFailed", Level = LogLevel.Debug,
        Message = "A submitted job failed")]
    public static partial void JobFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3002, EventName = "RetryScheduled", Level = LogLevel.Information,
        Message = "Item {Index} failed on attempt {Attempt}; retrying in {Delay}")]
    public static partial void RetryScheduled(ILogger logger, long index, int attempt, TimeSpan delay, Exception? exception);

    [LoggerMessage(EventId = 3003, EventName = "MapFailed", Level = LogLevel.Warning,
        Message = "Map stopped: item {Index} failed and the remaining work was cancelled")]
    public static partial void MapFailed(ILogger logger, long index, Exception exception);

    [LoggerMessage(EventId = 3004, EventName = "ShutdownRequested", Level = LogLevel.Information,
        Message = "Executor shutting down (wait: {Wait}, cancelPending: {CancelPending})")]
    public static partial void ShutdownRequested(ILogger logger, bool wait, bool cancelPending);

    [LoggerMessage(EventId = 3005, EventName = "QueuedJobsCancelled", Level = LogLevel.Information,
        Message = "Shutdown cancelled {Count} queued jobs")]
    public static partial void QueuedJobsCancelled(ILogger logger, int count);

    [LoggerMessage(EventId = 3006, EventName = "ShutdownCompleted", Level = LogLevel.Debug,
        Message = "Executor shut down: every job has finished")]
    public static partial void ShutdownCompleted(ILogger logger);

    [LoggerMessage(EventId = 3007, EventName = "CancellationCallbackFailed", Level = LogLevel.Warning,
        Message = "A cancellation callback registered by a job threw")]
    public static partial void CancellationCallbackFailed(ILogger logger, Exception exception);
}
