namespace AntFlow.Dataflow;

/// <summary>
/// The failure counts and the list of failed items a <see cref="StatusTracker"/> reports. Failures are rare next to
/// other events, so one lock keeps the counts and the list consistent with each other.
/// </summary>
internal sealed class FailureLog
{
    /// <summary>The type name reported when a failure carries neither a type name nor an exception.</summary>
    public const string UnknownErrorType = "Unknown";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _byType = new(StringComparer.Ordinal);   // protected by _lock
    private readonly Dictionary<string, int> _byStage = new(StringComparer.Ordinal);  // protected by _lock
    private readonly Queue<FailedItem> _items = new();                                // protected by _lock
    private readonly int? _maxItems;
    private int _total;                                                               // protected by _lock

    public FailureLog(int? maxItems)
    {
        _maxItems = maxItems;
    }

    public void Add(StatusEvent failure) => Add(ToFailedItem(failure));

    public void Add(FailedItem item)
    {
        lock (_lock)
        {
            _total++;
            Increment(_byType, item.ErrorType);
            Increment(_byStage, item.Stage);
            if (_items.Count == _maxItems)
            {
                _items.Dequeue();
            }

            _items.Enqueue(item);
        }
    }

    public ErrorSummary GetSummary()
    {
        lock (_lock)
        {
            return new ErrorSummary
            {
                TotalFailed = _total,
                ErrorsByType = new Dictionary<string, int>(_byType, StringComparer.Ordinal),
                ErrorsByStage = new Dictionary<string, int>(_byStage, StringComparer.Ordinal),
                FailedItems = _items.ToArray(),
            };
        }
    }

    public IReadOnlyList<FailedItem> GetFailedItems()
    {
        lock (_lock)
        {
            return _items.ToArray();
        }
    }

    /// <summary>Reads the failure details the pipeline puts in a Failed event, falling back on the exception itself.</summary>
    private static FailedItem ToFailedItem(StatusEvent failure)
    {
        IReadOnlyDictionary<string, object?> metadata = failure.Metadata;
        Exception? exception = metadata.GetValueOrDefault(StatusEventMetadata.Exception) as Exception;
        return new FailedItem
        {
            ItemId = failure.ItemId,
            Stage = failure.Stage,
            Timestamp = failure.Timestamp,
            Exception = exception,
            Error = metadata.GetValueOrDefault(StatusEventMetadata.Error) as string ?? exception?.Message ?? string.Empty,
            ErrorType = metadata.GetValueOrDefault(StatusEventMetadata.ErrorType) as string ?? exception?.GetType().Name ?? UnknownErrorType,
            Attempts = metadata.GetValueOrDefault(StatusEventMetadata.Attempts) switch
            {
                int attempts => attempts,
                long attempts => (int)Math.Clamp(attempts, int.MinValue, int.MaxValue),
                _ => 1, // the pipeline always sends it; without it, at least one attempt was made
            },
        };
    }

    private static void Increment(Dictionary<string, int> counts, string key)
    {
        counts[key] = counts.GetValueOrDefault(key) + 1;
    }
}
