namespace AntFlow.Dataflow;

/// <summary>Thrown when work is submitted to an <c>AsyncExecutor</c> that has been shut down.</summary>
public class ExecutorShutdownException : AntFlowException
{
    /// <summary>Creates an exception with a default message.</summary>
    public ExecutorShutdownException()
        : base("The executor has been shut down and accepts no more work.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What went wrong.</param>
    public ExecutorShutdownException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ExecutorShutdownException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
