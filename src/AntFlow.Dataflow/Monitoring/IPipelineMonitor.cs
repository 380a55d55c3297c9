namespace AntFlow.Dataflow;

/// <summary>The read-only view of a running pipeline that dashboards and displays use.</summary>
public interface IPipelineMonitor
{
    /// <summary>Gets what every worker is doing now, by worker name.</summary>
    /// <returns>An immutable dictionary of worker states.</returns>
    IReadOnlyDictionary<string, WorkerState> GetWorkerStates();

    /// <summary>Gets every worker's metrics so far, by worker name.</summary>
    /// <returns>An immutable dictionary of worker metrics.</returns>
    IReadOnlyDictionary<string, WorkerMetrics> GetWorkerMetrics();

    /// <summary>Gets pipeline-wide counts now.</summary>
    /// <returns>The counts.</returns>
    PipelineStats GetStats();

    /// <summary>Gets worker states, metrics, counts and errors read at one moment.</summary>
    /// <returns>The snapshot.</returns>
    DashboardSnapshot GetDashboardSnapshot();

    /// <summary>Gets the worker names of each stage, in stage order.</summary>
    /// <returns>Worker names by stage name.</returns>
    IReadOnlyDictionary<string, IReadOnlyList<string>> GetWorkerNames();

    /// <summary>Gets the failures so far.</summary>
    /// <returns>The error summary.</returns>
    ErrorSummary GetErrorSummary();
}
