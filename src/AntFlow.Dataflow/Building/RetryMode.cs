namespace AntFlow.Dataflow;

/// <summary>How a stage retries a failing item.</summary>
public enum RetryMode
{
    /// <summary>Retry only the task that failed, on the same worker, with backoff.</summary>
    PerTask,

    /// <summary>Put the whole item back into the stage's queue (attempt + 1, same priority) after the backoff delay.</summary>
    PerStage,
}
