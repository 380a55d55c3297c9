namespace AntFlow.Dataflow.Execution;

/// <summary>
/// One worker of a stage: what it is doing now and how it has done so far. Written only by the worker that holds the
/// slot (the TransformBlock's MaxDegreeOfParallelism guarantees a free slot for every running item); read at any
/// time by monitoring queries, which tolerate seeing fields from neighbouring moments.
/// </summary>
internal sealed class WorkerSlot
{
    private int _inUse;               // 0 or 1, taken with CompareExchange
    private long _processingSince;    // TimeProvider timestamp, 0 when idle
    private long _itemsProcessed;
    private long _itemsFailed;
    private long _totalProcessingTicks; // TimeProvider timestamp units
    private long _lastActive;         // TimeProvider timestamp, 0 before the first item
    private long _lastStatusUpdate;   // TimeProvider timestamp of the last accepted SetTaskStatus

    public WorkerSlot(IStageRuntime stage, int index, TimeProvider timeProvider)
    {
        Stage = stage;
        Index = index;
        Name = $"{stage.Name}-W{index}";
        ContextScope = new WorkerContext.Scope(this, timeProvider);
    }

    /// <summary>What <see cref="WorkerContext"/> sees while this worker runs an item (allocated once per worker).</summary>
    public WorkerContext.Scope ContextScope { get; }

    public IStageRuntime Stage { get; }

    public int Index { get; }

    public string Name { get; }

    /// <summary>The item being run; null when idle.</summary>
    public volatile ItemTicket? CurrentItem;

    /// <summary>The name of the task being run.</summary>
    public volatile string? CurrentTaskName;

    /// <summary>Free text set from inside a task with <see cref="WorkerContext.SetTaskStatus(string, TimeSpan?)"/>.</summary>
    public volatile string? StatusText;

    /// <summary>The attempt number of the current item in this stage (per-task retries raise it).</summary>
    public int Attempt;

    /// <summary>The highest attempt number the current item reached in any stage.</summary>
    public int MaxAttempt;

    /// <summary>The token the current item's tasks receive.</summary>
    public CancellationToken Token;

    /// <summary>When the current task run started (TimeProvider timestamp), for task event durations.</summary>
    public long TaskStarted;

    /// <summary>The id of the item being run; null when idle.</summary>
    public object? CurrentItemId => CurrentItem?.Id;

    public bool IsBusy => Volatile.Read(ref _processingSince) != 0;

    public long ProcessingSince => Volatile.Read(ref _processingSince);

    public long ItemsProcessed => Volatile.Read(ref _itemsProcessed);

    public long ItemsFailed => Volatile.Read(ref _itemsFailed);

    public long TotalProcessingTicks => Volatile.Read(ref _totalProcessingTicks);

    public long LastActive => Volatile.Read(ref _lastActive);

    public bool TryAcquire() => Interlocked.CompareExchange(ref _inUse, 1, 0) == 0;

    public void Begin(ItemTicket item, int attempt, int maxAttempt, long timestamp, CancellationToken token)
    {
        CurrentItem = item;
        CurrentTaskName = null;
        StatusText = null;
        Attempt = attempt;
        MaxAttempt = maxAttempt;
        Token = token;
        Volatile.Write(ref _processingSince, timestamp == 0 ? 1 : timestamp);
    }

    /// <summary>Records the item's outcome and frees the slot; a cancelled item counts as neither processed nor failed.</summary>
    public void End(bool succeeded, bool cancelled, long timestamp)
    {
        // Only the worker holding the slot writes these counters, so plain writes suffice; readers use Volatile.Read.
        long since = _processingSince;
        if (since != 0 && timestamp > since)
        {
            Volatile.Write(ref _totalProcessingTicks, _totalProcessingTicks + (timestamp - since));
        }

        if (cancelled)
        {
            // A stop, not the worker's doing: busy time still counts, the success rate does not change.
        }
        else if (succeeded)
        {
            Volatile.Write(ref _itemsProcessed, _itemsProcessed + 1);
        }
        else
        {
            Volatile.Write(ref _itemsFailed, _itemsFailed + 1);
        }

        Volatile.Write(ref _lastActive, timestamp == 0 ? 1 : timestamp);
        CurrentItem = null;
        CurrentTaskName = null;
        StatusText = null;
        Token = default;
        Volatile.Write(ref _processingSince, 0);
        Volatile.Write(ref _inUse, 0);
    }

    /// <summary>Accepts a status text unless one was accepted less than <paramref name="minInterval"/> ago.</summary>
    public bool TrySetStatus(string text, TimeSpan? minInterval, TimeProvider timeProvider)
    {
        long now = timeProvider.GetTimestamp();
        if (minInterval is { } interval && interval > TimeSpan.Zero)
        {
            long last = Volatile.Read(ref _lastStatusUpdate);
            if (last != 0 && timeProvider.GetElapsedTime(last, now) < interval)
            {
                return false;
            }
        }

        Volatile.Write(ref _lastStatusUpdate, now == 0 ? 1 : now);
        StatusText = text;
        return true;
    }
}
