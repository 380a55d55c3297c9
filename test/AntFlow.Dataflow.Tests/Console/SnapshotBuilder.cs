namespace AntFlow.Dataflow.Tests.Console;

/// <summary>Builds <see cref="DashboardSnapshot"/> values by hand for display tests.</summary>
internal sealed class SnapshotBuilder
{
    /// <summary>The default snapshot time.</summary>
    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly Dictionary<string, WorkerState> _states = [];
    private readonly Dictionary<string, WorkerMetrics> _metrics = [];
    private readonly Dictionary<string, StageStats> _stages = [];
    private readonly List<FailedItem> _failed = [];
    private readonly Dictionary<string, int> _byType = [];
    private readonly Dictionary<string, int> _byStage = [];
    private DateTimeOffset _timestamp = T0;
    private long _processed;
    private long _failedCount;
    private long _cancelled;
    private long _skipped;
    private long _inFlight;

    public static DashboardSnapshot Empty(DateTimeOffset? at = null) => new SnapshotBuilder().At(at ?? T0).Build();

    public SnapshotBuilder At(DateTimeOffset timestamp)
    {
        _timestamp = timestamp;
        return this;
    }

    public SnapshotBuilder AtSeconds(double seconds) => At(T0 + TimeSpan.FromSeconds(seconds));

    public SnapshotBuilder Counts(long processed, long failed = 0, long inFlight = 0, long skipped = 0, long cancelled = 0)
    {
        _processed = processed;
        _failedCount = failed;
        _inFlight = inFlight;
        _skipped = skipped;
        _cancelled = cancelled;
        return this;
    }

    public SnapshotBuilder Stage(string name, int pending = 0, int running = 0, long completed = 0, long failed = 0)
    {
        _stages[name] = new StageStats
        {
            StageName = name,
            PendingItems = pending,
            InProgressItems = running,
            CompletedItems = completed,
            FailedItems = failed,
        };
        return this;
    }

    public SnapshotBuilder IdleWorker(string name, string stage, long processed = 0, long failed = 0, TimeSpan? totalTime = null)
    {
        _states[name] = new WorkerState { WorkerName = name, Stage = stage, Status = WorkerStatus.Idle };
        return Metrics(name, stage, processed, failed, totalTime);
    }

    public SnapshotBuilder BusyWorker(
        string name,
        string stage,
        object itemId,
        string? task,
        TimeSpan onItemFor,
        long processed = 0,
        long failed = 0,
        TimeSpan? totalTime = null)
    {
        _states[name] = new WorkerState
        {
            WorkerName = name,
            Stage = stage,
            Status = WorkerStatus.Busy,
            CurrentItemId = itemId,
            CurrentTask = task,
            ProcessingSince = _timestamp - onItemFor,
        };
        return Metrics(name, stage, processed, failed, totalTime);
    }

    public SnapshotBuilder Error(object itemId, string stage, string errorType, string message, int attempts = 1)
    {
        _failed.Add(new FailedItem
        {
            ItemId = itemId,
            Stage = stage,
            ErrorType = errorType,
            Error = message,
            Attempts = attempts,
            Timestamp = _timestamp,
        });
        _byType[errorType] = _byType.GetValueOrDefault(errorType) + 1;
        _byStage[stage] = _byStage.GetValueOrDefault(stage) + 1;
        return this;
    }

    public DashboardSnapshot Build() => new()
    {
        Timestamp = _timestamp,
        WorkerStates = new Dictionary<string, WorkerState>(_states),
        WorkerMetrics = new Dictionary<string, WorkerMetrics>(_metrics),
        PipelineStats = new PipelineStats
        {
            ItemsProcessed = _processed,
            ItemsFailed = _failedCount,
            ItemsCancelled = _cancelled,
            ItemsSkipped = _skipped,
            ItemsInFlight = _inFlight,
            ItemsFed = _processed + _failedCount + _cancelled + _inFlight,
            StageStats = new Dictionary<string, StageStats>(_stages),
            QueueSizes = _stages.ToDictionary(p => p.Key, p => p.Value.PendingItems),
        },
        ErrorSummary = new ErrorSummary
        {
            TotalFailed = _failed.Count,
            ErrorsByType = new Dictionary<string, int>(_byType),
            ErrorsByStage = new Dictionary<string, int>(_byStage),
            FailedItems = _failed.ToArray(),
        },
    };

    /// <summary>A two-stage pipeline in the middle of a run, with busy and idle workers and two failures.</summary>
    public static SnapshotBuilder Sample(double atSeconds = 3) => new SnapshotBuilder()
        .AtSeconds(atSeconds)
        .Counts(processed: 112, failed: 3, inFlight: 60, skipped: 4, cancelled: 5)
        .Stage("Fetch", pending: 30, running: 2, completed: 150, failed: 1)
        .Stage("Save", pending: 25, running: 1, completed: 112, failed: 2)
        .BusyWorker("Fetch-W0", "Fetch", itemId: 42L, task: "polling batch 3/10", onItemFor: TimeSpan.FromSeconds(2.5), processed: 80, failed: 0, totalTime: TimeSpan.FromSeconds(40))
        .BusyWorker("Fetch-W1", "Fetch", itemId: 43L, task: "download", onItemFor: TimeSpan.FromMilliseconds(250), processed: 70, failed: 1, totalTime: TimeSpan.FromSeconds(35.5))
        .IdleWorker("Save-W0", "Save", processed: 112, failed: 2, totalTime: TimeSpan.FromSeconds(11.4))
        .Error(7L, "Fetch", "HttpRequestException", "Response status code does not indicate success: 503.", attempts: 3)
        .Error(19L, "Save", "IOException", "Disk full", attempts: 1);

    private SnapshotBuilder Metrics(string name, string stage, long processed, long failed, TimeSpan? totalTime)
    {
        _metrics[name] = new WorkerMetrics
        {
            WorkerName = name,
            Stage = stage,
            ItemsProcessed = processed,
            ItemsFailed = failed,
            TotalProcessingTime = totalTime ?? TimeSpan.Zero,
            LastActive = processed + failed > 0 ? _timestamp : null,
        };
        return this;
    }
}
