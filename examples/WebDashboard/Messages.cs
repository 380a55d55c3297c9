namespace WebDashboard;

// What the server sends to the page. Everything is flattened to strings and numbers here: item ids are `object`
// and status metadata may hold exceptions, neither of which belongs on the wire.

/// <summary>The demo run's state, kept by the server so a reloaded page sees the same run.</summary>
internal sealed record RunInfo(
    int RunId,
    string State,
    int TotalItems,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    string? Error);

/// <summary>Pipeline-wide counts.</summary>
internal sealed record TotalsDto(
    long Fed,
    long Processed,
    long Failed,
    long Cancelled,
    long Skipped,
    long InFlight);

/// <summary>One stage's row.</summary>
internal sealed record StageDto(
    string Name,
    int Workers,
    int BusyWorkers,
    int Queued,
    int Running,
    long Done,
    long Failed);

/// <summary>One worker's tile.</summary>
internal sealed record WorkerDto(
    string Name,
    string Stage,
    bool Busy,
    string? Item,
    string? Task,
    double? BusyMs,
    long Processed,
    long Failed,
    double AverageMs);

/// <summary>One failed item.</summary>
internal sealed record ErrorDto(
    string Item,
    string Stage,
    string Type,
    string Message,
    int Attempts,
    DateTimeOffset Time);

/// <summary>One dashboard snapshot, flattened.</summary>
internal sealed record SnapshotDto(
    DateTimeOffset Timestamp,
    TotalsDto Totals,
    IReadOnlyList<StageDto> Stages,
    IReadOnlyList<WorkerDto> Workers,
    int TotalErrors,
    IReadOnlyDictionary<string, int> ErrorsByType,
    IReadOnlyList<ErrorDto> RecentErrors);

/// <summary>One point of the throughput chart: items finished per second, at <see cref="Seconds"/> into the run.</summary>
internal sealed record ThroughputPoint(double Seconds, double Rate, long Finished);

/// <summary>One item or task event from the status tracker.</summary>
internal sealed record ActivityDto(
    string Kind,
    string Item,
    string Stage,
    string Event,
    string? Worker,
    string? Task,
    int? Attempt,
    double? DurationMs,
    string? Error,
    DateTimeOffset Time);

/// <summary>Sent once per connection: everything the page needs to draw itself from scratch.</summary>
internal sealed record HelloMessage(
    RunInfo Run,
    SnapshotDto Snapshot,
    IReadOnlyList<ThroughputPoint> Throughput,
    IReadOnlyList<ActivityDto> RecentActivity);

/// <summary>Sent every second and whenever the run's state changes.</summary>
internal sealed record SnapshotMessage(RunInfo Run, SnapshotDto Snapshot, ThroughputPoint? Point);

/// <summary>The tracker events recorded since the last batch; at most a bounded number of the newest are listed.</summary>
internal sealed record EventsMessage(int RunId, int Total, IReadOnlyList<ActivityDto> Events);
