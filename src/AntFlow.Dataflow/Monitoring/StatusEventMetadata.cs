namespace AntFlow.Dataflow;

/// <summary>The <see cref="StatusEvent.Metadata"/> keys the pipeline writes and the tracker reads.</summary>
internal static class StatusEventMetadata
{
    /// <summary>On <see cref="ItemStatus.Retrying"/>: the next attempt number (<see cref="int"/>).</summary>
    public const string Attempt = "attempt";

    /// <summary>On <see cref="ItemStatus.Failed"/>: the exception's message (<see cref="string"/>).</summary>
    public const string Error = "error";

    /// <summary>On <see cref="ItemStatus.Failed"/>: the exception's <c>GetType().Name</c> (<see cref="string"/>).</summary>
    public const string ErrorType = "errorType";

    /// <summary>On <see cref="ItemStatus.Failed"/>: how many attempts were made in all (<see cref="int"/>).</summary>
    public const string Attempts = "attempts";

    /// <summary>On <see cref="ItemStatus.Failed"/>: the <see cref="System.Exception"/> itself.</summary>
    public const string Exception = "exception";
}
