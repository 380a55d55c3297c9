namespace AntFlow.Dataflow.Execution;

/// <summary>Builds the monitoring views of a run. Each query is O(workers + stages) and returns immutable copies.</summary>
internal static class PipelineMonitorView
{
    public static IReadOnlyDictionary<string, WorkerState> GetWorkerStates(PipelineEngine engine)
    {
        var states = new Dictionary<string, WorkerState>(StringComparer.Ordinal);
        foreach (IStageRuntime stage in engine.Stages)
        {
            foreach (WorkerSlot slot in stage.Workers)
            {
                states[slot.Name] = GetState(engine, stage, slot);
            }
        }

        return states;
    }

    public static IReadOnlyDictionary<string, WorkerMetrics> GetWorkerMetrics(PipelineEngine engine)
    {
        var metrics = new Dictionary<string, WorkerMetrics>(StringComparer.Ordinal);
        foreach (IStageRuntime stage in engine.Stages)
        {
            foreach (WorkerSlot slot in stage.Workers)
            {
                long lastActive = slot.LastActive;
                long ticks = slot.TotalProcessingTicks;
                metrics[slot.Name] = new WorkerMetrics
                {
                    WorkerName = slot.Name,
                    Stage = stage.Name,
                    ItemsProcessed = slot.ItemsProcessed,
                    ItemsFailed = slot.ItemsFailed,
                    TotalProcessingTime = ticks == 0 ? TimeSpan.Zero : engine.TimeProvider.GetElapsedTime(0, ticks),
                    LastActive = lastActive == 0 ? null : engine.ToTime(lastActive),
                };
            }
        }

        return metrics;
    }

    public static PipelineStats GetStats(PipelineEngine engine)
    {
        // Finished counts first, fed last: items are counted fed before they finish, so in-flight is never negative
        // and processed + failed + cancelled + in flight = fed at this moment.
        long processed = engine.Processed;
        long failed = engine.Failed;
        long cancelled = engine.Cancelled;
        long skipped = engine.Skipped;
        var queues = new Dictionary<string, int>(StringComparer.Ordinal);
        var stages = new Dictionary<string, StageStats>(StringComparer.Ordinal);
        foreach (IStageRuntime stage in engine.Stages)
        {
            int busy = 0;
            foreach (WorkerSlot slot in stage.Workers)
            {
                if (slot.IsBusy)
                {
                    busy++;
                }
            }

            int queued = stage.QueueSize;
            queues[stage.Name] = queued;
            stages[stage.Name] = new StageStats
            {
                StageName = stage.Name,
                PendingItems = queued,
                InProgressItems = busy,
                CompletedItems = stage.CompletedItems,
                FailedItems = stage.FailedItems,
            };
        }

        long fed = engine.Fed;
        return new PipelineStats
        {
            ItemsProcessed = processed,
            ItemsFailed = failed,
            ItemsCancelled = cancelled,
            ItemsSkipped = skipped,
            ItemsFed = fed,
            ItemsInFlight = Math.Max(0, fed - processed - failed - cancelled),
            QueueSizes = queues,
            StageStats = stages,
        };
    }

    public static DashboardSnapshot GetSnapshot(PipelineEngine engine) => new()
    {
        Timestamp = engine.TimeProvider.GetUtcNow(),
        PipelineStats = GetStats(engine),
        WorkerStates = GetWorkerStates(engine),
        WorkerMetrics = GetWorkerMetrics(engine),
        ErrorSummary = engine.GetErrorSummary(),
    };

    private static WorkerState GetState(PipelineEngine engine, IStageRuntime stage, WorkerSlot slot)
    {
        long since = slot.ProcessingSince;
        object? item = slot.CurrentItemId;
        bool busy = since != 0 && item is not null;
        return new WorkerState
        {
            WorkerName = slot.Name,
            Stage = stage.Name,
            Status = busy ? WorkerStatus.Busy : WorkerStatus.Idle,
            CurrentItemId = busy ? item : null,
            CurrentTask = busy ? slot.StatusText ?? slot.CurrentTaskName : null,
            ProcessingSince = busy ? engine.ToTime(since) : null,
        };
    }
}
