namespace AntFlow.Dataflow;

/// <summary>Everything a dashboard shows, read at one moment.</summary>
public sealed record DashboardSnapshot
{
    /// <summary>Gets every worker's state, by worker name.</summary>
    public required IReadOnlyDictionary<string, WorkerState> WorkerStates { get; init; }

    /// <summary>Gets every worker's metrics, by worker name.</summary>
    public required IReadOnlyDictionary<string, WorkerMetrics> WorkerMetrics { get; init; }

    /// <summary>Gets the pipeline-wide counts.</summary>
    public required PipelineStats PipelineStats { get; init; }

    /// <summary>Gets the failures so far.</summary>
    public required ErrorSummary ErrorSummary { get; init; }

    /// <summary>Gets when the snapshot was taken.</summary>
    public required DateTimeOffset Timestamp { get; init; }
}
