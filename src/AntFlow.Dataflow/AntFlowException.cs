namespace AntFlow.Dataflow;

/// <summary>The base type of every exception AntFlow.Dataflow throws on its own behalf.</summary>
public class AntFlowException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public AntFlowException()
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What went wrong.</param>
    public AntFlowException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public AntFlowException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
