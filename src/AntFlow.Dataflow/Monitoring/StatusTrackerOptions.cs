namespace AntFlow.Dataflow;

/// <summary>Settings of a <see cref="StatusTracker"/>. The tracker copies them when it is created, so later changes have no effect on it.</summary>
public sealed class StatusTrackerOptions
{
    private int _maxHistoryPerItem = StatusTrackerConstants.DefaultMaxHistoryPerItem;
    private int _eventBufferCapacity = StatusTrackerConstants.DefaultEventBufferCapacity;
    private int? _maxFinishedItems;

    /// <summary>Gets or sets how many status events are kept per item; older ones are dropped first.</summary>
    /// <value>The default value is 100.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxHistoryPerItem
    {
        get => _maxHistoryPerItem;
        set
        {
            if (value < StatusTrackerConstants.MinMaxHistoryPerItem)
            {
                throw new ArgumentOutOfRangeException(nameof(MaxHistoryPerItem), value, $"MaxHistoryPerItem must be at least {StatusTrackerConstants.MinMaxHistoryPerItem} (was {value}).");
            }

            _maxHistoryPerItem = value;
        }
    }

    /// <summary>
    /// Gets or sets how many events may wait for subscribers. When the buffer is full, the worker that records
    /// the next event waits for room, so no event is ever dropped; the queries are updated either way.
    /// </summary>
    /// <value>The default value is 10,000.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int EventBufferCapacity
    {
        get => _eventBufferCapacity;
        set
        {
            if (value < StatusTrackerConstants.MinEventBufferCapacity)
            {
                throw new ArgumentOutOfRangeException(nameof(EventBufferCapacity), value, $"EventBufferCapacity must be at least {StatusTrackerConstants.MinEventBufferCapacity} (was {value}).");
            }

            _eventBufferCapacity = value;
        }
    }

    /// <summary>
    /// Gets or sets how many finished items (failed, cancelled, or done with their last stage) the tracker remembers.
    /// Beyond that count the oldest finished items are forgotten: <see cref="StatusTracker.GetStatus(object)"/> and
    /// <see cref="StatusTracker.GetHistory(object)"/> no longer know them and <see cref="ErrorSummary.FailedItems"/>
    /// keeps only the most recent failures, while <see cref="StatusTracker.GetStats"/> and the counts of
    /// <see cref="StatusTracker.GetErrorSummary"/> still include them. <see langword="null"/> keeps every item.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (keep every item).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int? MaxFinishedItems
    {
        get => _maxFinishedItems;
        set
        {
            if (value < StatusTrackerConstants.MinMaxFinishedItems)
            {
                throw new ArgumentOutOfRangeException(nameof(MaxFinishedItems), value, $"MaxFinishedItems must be at least {StatusTrackerConstants.MinMaxFinishedItems} or null (was {value}).");
            }

            _maxFinishedItems = value;
        }
    }
}
