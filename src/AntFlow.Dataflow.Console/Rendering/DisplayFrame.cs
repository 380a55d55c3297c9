namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>
/// What one redraw shows: a snapshot plus what a display derives across snapshots (total, rate, ETA,
/// elapsed time, stage and worker order). Builders turn a frame into a renderable without side effects.
/// </summary>
internal sealed record DisplayFrame
{
    /// <summary>Gets the pipeline's state.</summary>
    public required DashboardSnapshot Snapshot { get; init; }

    /// <summary>Gets the number of input items, or <see langword="null"/> when unknown.</summary>
    public long? Total { get; init; }

    /// <summary>Gets the throughput in items per second (smoothed while running, the run's average when final).</summary>
    public double? Rate { get; init; }

    /// <summary>Gets the estimated time left, or <see langword="null"/> when it cannot be estimated.</summary>
    public TimeSpan? Eta { get; init; }

    /// <summary>Gets the time since the display first saw the run.</summary>
    public TimeSpan? Elapsed { get; init; }

    /// <summary>Gets whether this is the end-of-run summary.</summary>
    public bool IsFinal { get; init; }

    /// <summary>Gets the stage names in pipeline order, as far as known.</summary>
    public IReadOnlyList<string> StageOrder { get; init; } = [];

    /// <summary>Gets the worker names in pipeline order, as far as known.</summary>
    public IReadOnlyList<string> WorkerOrder { get; init; } = [];

    /// <summary>Gets the number of items that reached an end: processed, failed or cancelled.</summary>
    public long Done => DoneOf(Snapshot.PipelineStats);

    /// <summary>Gets the finished fraction 0..1, or <see langword="null"/> when the total is unknown.</summary>
    public double? Fraction => Total switch
    {
        null => null,
        <= 0 => 1.0,
        { } total => Math.Clamp((double)Done / total, 0, 1),
    };

    /// <summary>Gets the number of items that reached an end in <paramref name="stats"/>.</summary>
    /// <param name="stats">The counts.</param>
    /// <returns>Processed + failed + cancelled.</returns>
    public static long DoneOf(PipelineStats stats) => stats.ItemsProcessed + stats.ItemsFailed + stats.ItemsCancelled;
}
