namespace AntFlow.Dataflow;

/// <summary>What happened to one run of a task.</summary>
public enum TaskEventType
{
    /// <summary>The task started.</summary>
    Start,

    /// <summary>The task finished successfully.</summary>
    Complete,

    /// <summary>The task failed and will be tried again.</summary>
    Retry,

    /// <summary>The task failed for good.</summary>
    Fail,
}
