using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow;

/// <summary>Log messages of the tracker and the dashboard (event ids 300-399 belong to monitoring).</summary>
internal static partial class MonitoringLog
{
    [LoggerMessage(EventId = 300, EventName = "StatusSubscriberFailed", Level = LogLevel.Warning,
        Message = "A status event subscriber threw while handling item {ItemId} ({Status} in stage {Stage}); the exception was ignored.")]
    public static partial void StatusSubscriberFailed(ILogger logger, Exception exception, object itemId, ItemStatus status, string stage);

    [LoggerMessage(EventId = 301, EventName = "TaskSubscriberFailed", Level = LogLevel.Warning,
        Message = "A task event subscriber threw while handling item {ItemId} ({EventType} of task {TaskName} in stage {Stage}); the exception was ignored.")]
    public static partial void TaskSubscriberFailed(ILogger logger, Exception exception, object itemId, TaskEventType eventType, string taskName, string stage);

    [LoggerMessage(EventId = 310, EventName = "DashboardUpdateFailed", Level = LogLevel.Warning,
        Message = "The dashboard update callback threw; the exception was ignored.")]
    public static partial void DashboardUpdateFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 311, EventName = "DashboardSnapshotFailed", Level = LogLevel.Warning,
        Message = "The dashboard could not read a snapshot of the pipeline; this update was skipped.")]
    public static partial void DashboardSnapshotFailed(ILogger logger, Exception exception);
}
