namespace AntFlow.Dataflow.Tests.Console;

/// <summary>An <see cref="IPipelineMonitor"/> that answers from a fixed snapshot and stage layout.</summary>
internal sealed class StubPipelineMonitor(DashboardSnapshot snapshot, IReadOnlyDictionary<string, IReadOnlyList<string>>? workerNames = null)
    : IPipelineMonitor
{
    public bool ThrowOnQuery { get; init; }

    public IReadOnlyDictionary<string, WorkerState> GetWorkerStates() => Get(() => snapshot.WorkerStates);

    public IReadOnlyDictionary<string, WorkerMetrics> GetWorkerMetrics() => Get(() => snapshot.WorkerMetrics);

    public PipelineStats GetStats() => Get(() => snapshot.PipelineStats);

    public DashboardSnapshot GetDashboardSnapshot() => Get(() => snapshot);

    public IReadOnlyDictionary<string, IReadOnlyList<string>> GetWorkerNames() =>
        Get(() => workerNames ?? new Dictionary<string, IReadOnlyList<string>>());

    public ErrorSummary GetErrorSummary() => Get(() => snapshot.ErrorSummary);

    private T Get<T>(Func<T> read) => ThrowOnQuery ? throw new InvalidOperationException("monitor unavailable") : read();
}
