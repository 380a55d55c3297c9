namespace AntFlow.Dataflow;

/// <summary>Wraps the failure of a named task where a wrapper is needed; the original exception is <see cref="Exception.InnerException"/>.</summary>
public class TaskFailedException : AntFlowException
{
    /// <summary>Creates an exception with a default message.</summary>
    public TaskFailedException()
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What went wrong.</param>
    public TaskFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception for the failure of the named task.</summary>
    /// <param name="taskName">The task that failed.</param>
    /// <param name="innerException">The exception the task threw.</param>
    public TaskFailedException(string taskName, Exception innerException)
        : base($"Task '{taskName}' failed: {innerException?.Message}", innerException)
    {
        TaskName = taskName;
    }

    /// <summary>Gets the name of the task that failed.</summary>
    public string? TaskName { get; }
}
