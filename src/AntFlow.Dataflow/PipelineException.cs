namespace AntFlow.Dataflow;

/// <summary>Thrown when a pipeline is configured or used incorrectly.</summary>
public class PipelineException : AntFlowException
{
    /// <summary>Creates an exception with a default message.</summary>
    public PipelineException()
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What went wrong.</param>
    public PipelineException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public PipelineException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
