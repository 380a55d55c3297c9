namespace AntFlow.Dataflow;

/// <summary>Thrown by <c>Build()</c> when a stage's configuration is invalid; the message names the stage and the bad value.</summary>
public class StageValidationException : PipelineException
{
    /// <summary>Creates an exception with a default message.</summary>
    public StageValidationException()
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What went wrong.</param>
    public StageValidationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public StageValidationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception about one stage.</summary>
    /// <param name="stageName">The stage whose configuration is invalid.</param>
    /// <param name="message">What is wrong with it.</param>
    public StageValidationException(string? stageName, string message)
        : base(message)
    {
        StageName = stageName;
    }

    /// <summary>Gets the name of the invalid stage, when the problem belongs to one stage.</summary>
    public string? StageName { get; }
}
