namespace AntFlow.Dataflow;

/// <summary>Whether a worker is running an item.</summary>
public enum WorkerStatus
{
    /// <summary>Waiting for the next item.</summary>
    Idle,

    /// <summary>Running an item.</summary>
    Busy,
}
