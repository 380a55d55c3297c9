namespace AntFlow.Dataflow;

/// <summary>Something that shows a run's progress (a progress bar, a dashboard). Exceptions it throws are logged and ignored.</summary>
public interface IPipelineDisplay
{
    /// <summary>Called once when the run starts.</summary>
    /// <param name="pipeline">The pipeline being run.</param>
    /// <param name="totalItems">The number of input items, or <see langword="null"/> when it is not known up front.</param>
    void OnStart(IPipelineMonitor pipeline, int? totalItems);

    /// <summary>Called periodically while the run goes on.</summary>
    /// <param name="snapshot">The pipeline's state now.</param>
    void OnUpdate(DashboardSnapshot snapshot);

    /// <summary>Called once when the run ends, whatever the outcome.</summary>
    /// <param name="finalSnapshot">The pipeline's final state.</param>
    void OnFinish(DashboardSnapshot finalSnapshot);
}
