using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Diagnostics;

/// <summary>The pipeline's log messages (source-generated, allocation-free when the level is off).</summary>
internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 1, EventName = "ItemFailed", Level = LogLevel.Warning,
        Message = "Item {ItemId} failed in stage '{Stage}' after {Attempts} attempt(s)")]
    public static partial void ItemFailed(ILogger logger, object itemId, string stage, int attempts, Exception error);

    [LoggerMessage(EventId = 2, EventName = "ItemRetrying", Level = LogLevel.Debug,
        Message = "Item {ItemId} failed in stage '{Stage}' (attempt {Attempt}); retrying in {Delay}")]
    public static partial void ItemRetrying(ILogger logger, object itemId, string stage, int attempt, TimeSpan delay, Exception error);

    [LoggerMessage(EventId = 3, EventName = "CallbackFailed", Level = LogLevel.Error,
        Message = "The {Callback} callback of stage '{Stage}' threw for item {ItemId}; the item's outcome is unchanged")]
    public static partial void CallbackFailed(ILogger logger, string callback, string stage, object itemId, Exception error);

    [LoggerMessage(EventId = 4, EventName = "DisplayFailed", Level = LogLevel.Warning,
        Message = "The display threw in {Method}; it is ignored and the run goes on")]
    public static partial void DisplayFailed(ILogger logger, string method, Exception error);

    [LoggerMessage(EventId = 5, EventName = "CancellationCallbackFailed", Level = LogLevel.Warning,
        Message = "A cancellation callback threw while the pipeline was stopping")]
    public static partial void CancellationCallbackFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 6, EventName = "PipelineStarted", Level = LogLevel.Information,
        Message = "Pipeline started with stages {Stages}")]
    public static partial void PipelineStarted(ILogger logger, string stages);

    [LoggerMessage(EventId = 7, EventName = "PipelineFinished", Level = LogLevel.Information,
        Message = "Pipeline finished: {Processed} processed, {Failed} failed, {Cancelled} cancelled in {Elapsed}")]
    public static partial void PipelineFinished(ILogger logger, long processed, long failed, long cancelled, TimeSpan elapsed);

    [LoggerMessage(EventId = 8, EventName = "CheckpointFailed", Level = LogLevel.Error,
        Message = "The checkpoint store failed to mark item {ItemId} finished")]
    public static partial void CheckpointFailed(ILogger logger, object itemId, Exception error);
}
