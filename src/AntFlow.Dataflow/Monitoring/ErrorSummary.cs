namespace AntFlow.Dataflow;

/// <summary>The failures so far, summarised.</summary>
public sealed record ErrorSummary
{
    /// <summary>Gets an empty summary.</summary>
    public static ErrorSummary Empty { get; } = new();

    /// <summary>Gets how many items failed for good.</summary>
    public int TotalFailed { get; init; }

    /// <summary>Gets failure counts by exception type name.</summary>
    public IReadOnlyDictionary<string, int> ErrorsByType { get; init; } = new Dictionary<string, int>();

    /// <summary>Gets failure counts by stage name.</summary>
    public IReadOnlyDictionary<string, int> ErrorsByStage { get; init; } = new Dictionary<string, int>();

    /// <summary>Gets the failed items (the most recent ones when a cap applies), oldest first.</summary>
    public IReadOnlyList<FailedItem> FailedItems { get; init; } = [];
}
