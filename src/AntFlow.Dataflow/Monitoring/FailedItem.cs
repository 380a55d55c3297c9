namespace AntFlow.Dataflow;

/// <summary>One item that failed for good.</summary>
public sealed record FailedItem
{
    /// <summary>Gets the item's id.</summary>
    public required object ItemId { get; init; }

    /// <summary>Gets the error message.</summary>
    public required string Error { get; init; }

    /// <summary>Gets the exception's type name (<c>Type.Name</c>).</summary>
    public required string ErrorType { get; init; }

    /// <summary>Gets the stage the item failed in.</summary>
    public required string Stage { get; init; }

    /// <summary>Gets how many attempts were made.</summary>
    public int Attempts { get; init; }

    /// <summary>Gets when the item failed.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>Gets the exception the item failed with, when it is known.</summary>
    public Exception? Exception { get; init; }
}
