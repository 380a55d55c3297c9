using AntFlow.Dataflow;

namespace WebDashboard;

/// <summary>Flattens a <see cref="DashboardSnapshot"/> into what the page draws.</summary>
internal static class SnapshotMapper
{
    private const int MaxRecentErrors = 15;

    /// <summary>Reads one snapshot of <paramref name="monitor"/>, with stages in <paramref name="stageNames"/> order.</summary>
    public static SnapshotDto Map(IPipelineMonitor monitor, IReadOnlyList<string> stageNames)
    {
        DashboardSnapshot snapshot = monitor.GetDashboardSnapshot();
        IReadOnlyDictionary<string, IReadOnlyList<string>> workerNames = monitor.GetWorkerNames();
        PipelineStats stats = snapshot.PipelineStats;

        var stages = new List<StageDto>(stageNames.Count);
        var workers = new List<WorkerDto>();
        foreach (string stage in stageNames)
        {
            IReadOnlyList<string> names = workerNames.GetValueOrDefault(stage) ?? [];
            int busy = 0;
            foreach (string name in names)
            {
                WorkerDto worker = MapWorker(name, stage, snapshot);
                busy += worker.Busy ? 1 : 0;
                workers.Add(worker);
            }

            StageStats? stageStats = stats.StageStats.GetValueOrDefault(stage);
            stages.Add(new StageDto(
                stage,
                names.Count,
                busy,
                stats.QueueSizes.GetValueOrDefault(stage),
                stageStats?.InProgressItems ?? 0,
                stageStats?.CompletedItems ?? 0,
                stageStats?.FailedItems ?? 0));
        }

        ErrorSummary errors = snapshot.ErrorSummary;
        ErrorDto[] recentErrors = [.. errors.FailedItems
            .Reverse()
            .Take(MaxRecentErrors)
            .Select(f => new ErrorDto(ActivityFeed.FormatId(f.ItemId), f.Stage, f.ErrorType, f.Error, f.Attempts, f.Timestamp))];

        return new SnapshotDto(
            snapshot.Timestamp,
            new TotalsDto(stats.ItemsFed, stats.ItemsProcessed, stats.ItemsFailed, stats.ItemsCancelled, stats.ItemsSkipped, stats.ItemsInFlight),
            stages,
            workers,
            errors.TotalFailed,
            errors.ErrorsByType,
            recentErrors);
    }

    private static WorkerDto MapWorker(string name, string stage, DashboardSnapshot snapshot)
    {
        WorkerState? state = snapshot.WorkerStates.GetValueOrDefault(name);
        WorkerMetrics? metrics = snapshot.WorkerMetrics.GetValueOrDefault(name);
        bool busy = state?.Status == WorkerStatus.Busy;
        double? busyMs = busy && state!.ProcessingSince is { } since ? Math.Max(0, (snapshot.Timestamp - since).TotalMilliseconds) : null;
        return new WorkerDto(
            name,
            stage,
            busy,
            busy ? ActivityFeed.FormatId(state!.CurrentItemId) : null,
            busy ? state!.CurrentTask : null,
            busyMs,
            metrics?.ItemsProcessed ?? 0,
            metrics?.ItemsFailed ?? 0,
            metrics?.AverageProcessingTime.TotalMilliseconds ?? 0);
    }
}
