using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow;

/// <summary>
/// Records every status change of every item a pipeline handles, answers queries about them, and passes the events on
/// to subscribers. Give it to a pipeline with <c>WithTracker(tracker)</c>; one tracker may serve several pipelines.
/// </summary>
/// <remarks>
/// <para>
/// Queries (<see cref="GetStatus"/>, <see cref="GetStats"/>, <see cref="GetHistory"/>, <see cref="GetByStatus"/>,
/// <see cref="GetErrorSummary"/>) see an event as soon as it is recorded. Subscribers are called later, from one
/// background loop, never from a pipeline worker: in the order the events were recorded, each subscriber after the
/// other. Events wait for subscribers in a buffer of <see cref="StatusTrackerOptions.EventBufferCapacity"/> events;
/// when it is full, the worker recording the next event waits for room, so no event is lost. Exceptions thrown by
/// subscribers are logged and ignored.
/// </para>
/// <para>
/// Item ids compare with <see cref="ItemIdComparer"/>: <c>GetStatus(0)</c> finds the item whose id is <c>0L</c>.
/// All members are safe to call from many threads at once.
/// </para>
/// </remarks>
[DebuggerDisplay("Items = {_items.Count}")]
public sealed class StatusTracker : IAsyncDisposable
{
    // Lock order: _trimLock, then one TrackedItem (locked on itself); FailureLog and EventDispatcher take their own
    // locks only after the item lock is released. No lock is ever held across an await.
    private static readonly ItemStatus[] AllStatuses = Enum.GetValues<ItemStatus>();

    private readonly ConcurrentDictionary<object, TrackedItem> _items = new(ItemIdComparer.Instance);
    private readonly int[] _statusCounts = new int[AllStatuses.Length];   // Interlocked; changed under the item's lock
    private readonly int _maxHistoryPerItem;
    private readonly int? _maxFinishedItems;
    private readonly FailureLog _failures;
    private readonly EventDispatcher _dispatcher;
    private readonly bool _hasOwnLogger;

    // Finished items in the order they finished; an entry whose version no longer matches its item is stale.
    private readonly ConcurrentQueue<(TrackedItem Item, long Version)> _finishedOrder = new();
    private readonly Lock _trimLock = new();
    private int _finishedCount;          // Interlocked; items with Finished set and not removed
    private long _lastFirstSeen;         // Interlocked
    private string[] _finalStages = [];  // copy-on-write under _trimLock

    /// <summary>Creates a tracker with the default options.</summary>
    public StatusTracker()
        : this(new StatusTrackerOptions())
    {
    }

    /// <summary>Creates a tracker.</summary>
    /// <param name="options">The settings; they are copied, so later changes have no effect.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    public StatusTracker(StatusTrackerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _maxHistoryPerItem = options.MaxHistoryPerItem;
        _maxFinishedItems = options.MaxFinishedItems;
        _failures = new FailureLog(_maxFinishedItems);
        _dispatcher = new EventDispatcher(options.EventBufferCapacity);
    }

    /// <summary>Creates a tracker that logs subscriber exceptions through the given logger factory.</summary>
    /// <param name="options">The settings; they are copied, so later changes have no effect.</param>
    /// <param name="loggerFactory">Creates the tracker's logger. A pipeline's own logger (<c>WithLogging</c>) does not replace it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> or <paramref name="loggerFactory"/> is <see langword="null"/>.</exception>
    public StatusTracker(StatusTrackerOptions options, ILoggerFactory loggerFactory)
        : this(options)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _dispatcher.Logger = loggerFactory.CreateLogger<StatusTracker>();
        _hasOwnLogger = true;
    }

    /// <summary>Gets whether anyone listens to task events; the pipeline builds <see cref="TaskEvent"/>s only then.</summary>
    internal bool HasTaskSubscribers => _dispatcher.HasTaskSubscribers;

    /// <summary>
    /// Gets or sets the logger for subscriber exceptions. A pipeline built with <c>WithLogging</c> sets it; the value is
    /// ignored when the tracker was created with its own <see cref="ILoggerFactory"/>.
    /// </summary>
    internal ILogger Logger
    {
        get => _dispatcher.Logger;
        set
        {
            if (!_hasOwnLogger)
            {
                _dispatcher.Logger = value;
            }
        }
    }

    /// <summary>Calls <paramref name="handler"/> for every status event recorded from now on.</summary>
    /// <param name="handler">The subscriber. It runs on the tracker's dispatcher, one event at a time, in event order.</param>
    /// <returns>A handle that stops the calls when disposed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The tracker has been disposed.</exception>
    public IDisposable Subscribe(Func<StatusEvent, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _dispatcher.Subscribe(handler);
    }

    /// <summary>Calls <paramref name="handler"/> for every task event (start, completion, retry, failure of one task run) recorded from now on.</summary>
    /// <param name="handler">The subscriber. It runs on the tracker's dispatcher, one event at a time, in event order.</param>
    /// <returns>A handle that stops the calls when disposed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The tracker has been disposed.</exception>
    public IDisposable Subscribe(Func<TaskEvent, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _dispatcher.Subscribe(handler);
    }

    /// <summary>Gets an item's latest event.</summary>
    /// <param name="itemId">The item's id.</param>
    /// <returns>The latest event, or <see langword="null"/> when the item is unknown (or was forgotten, see <see cref="StatusTrackerOptions.MaxFinishedItems"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="itemId"/> is <see langword="null"/>.</exception>
    public StatusEvent? GetStatus(object itemId)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        if (!_items.TryGetValue(itemId, out TrackedItem? item))
        {
            return null;
        }

        lock (item)
        {
            return item.TryGetLatest(out StatusRecord latest) ? latest.ToEvent() : null;
        }
    }

    /// <summary>Gets an item's events, oldest first, at most <see cref="StatusTrackerOptions.MaxHistoryPerItem"/> (the newest).</summary>
    /// <param name="itemId">The item's id.</param>
    /// <returns>The events; empty when the item is unknown.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="itemId"/> is <see langword="null"/>.</exception>
    public IReadOnlyList<StatusEvent> GetHistory(object itemId)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        if (!_items.TryGetValue(itemId, out TrackedItem? item))
        {
            return [];
        }

        lock (item)
        {
            return item.CopyHistory();
        }
    }

    /// <summary>Gets the latest event of every known item whose latest status is <paramref name="status"/>.</summary>
    /// <param name="status">The status to look for.</param>
    /// <returns>The events, in the order the tracker first saw their items.</returns>
    public IReadOnlyList<StatusEvent> GetByStatus(ItemStatus status)
    {
        var matches = new List<(long FirstSeen, StatusEvent Event)>();
        foreach (KeyValuePair<object, TrackedItem> entry in _items)
        {
            TrackedItem item = entry.Value;
            lock (item)
            {
                if (item.TryGetLatest(out StatusRecord latest) && latest.Status == status)
                {
                    matches.Add((item.FirstSeen, latest.ToEvent()));
                }
            }
        }

        matches.Sort(static (a, b) => a.FirstSeen.CompareTo(b.FirstSeen));
        return matches.ConvertAll(static m => m.Event);
    }

    /// <summary>Gets how many items are in each status now, counting every item once, by its latest status.</summary>
    /// <returns>A count for every <see cref="ItemStatus"/> value (zero when none). Forgotten items still count under their last status.</returns>
    /// <remarks>The counts are kept as events are recorded, so this costs the same whatever the number of items.</remarks>
    public IReadOnlyDictionary<ItemStatus, int> GetStats()
    {
        var stats = new Dictionary<ItemStatus, int>(AllStatuses.Length);
        foreach (ItemStatus status in AllStatuses)
        {
            stats[status] = Volatile.Read(ref _statusCounts[(int)status]);
        }

        return stats;
    }

    /// <summary>Gets the items that failed, oldest first (the most recent ones when <see cref="StatusTrackerOptions.MaxFinishedItems"/> is set).</summary>
    /// <returns>The failed items.</returns>
    public IReadOnlyList<FailedItem> GetFailedItems() => _failures.GetFailedItems();

    /// <summary>Gets the failures so far: how many, by exception type and by stage, and the failed items.</summary>
    /// <returns>The summary, consistent within itself.</returns>
    public ErrorSummary GetErrorSummary() => _failures.GetSummary();

    /// <summary>Waits until every event recorded before the call has been handed to the subscribers.</summary>
    /// <param name="cancellationToken">Stops the wait (not the delivery).</param>
    /// <returns>A task that completes when the events have been delivered.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _dispatcher.FlushAsync(cancellationToken);

    /// <summary>
    /// Delivers the events already recorded, then stops the subscriber loop. The queries keep working; events recorded
    /// afterwards update them but reach no subscriber, and <see cref="Subscribe(Func{StatusEvent, Task})"/> throws.
    /// </summary>
    /// <returns>A task that completes when every buffered event has been delivered.</returns>
    public ValueTask DisposeAsync() => _dispatcher.DisposeAsync();

    /// <summary>
    /// Records a status event: the queries see it before this returns; subscribers get it later. Completes
    /// synchronously unless the event buffer is full, in which case it completes when there is room.
    /// </summary>
    /// <param name="statusEvent">The event.</param>
    /// <param name="cancellationToken">Stops waiting for room in the buffer; the queries stay updated and the event is not delivered.</param>
    internal ValueTask RecordAsync(StatusEvent statusEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statusEvent);
        return RecordAsync(StatusRecord.From(statusEvent), statusEvent, cancellationToken);
    }

    /// <summary>
    /// Records a status change, as <see cref="RecordAsync(StatusEvent, CancellationToken)"/> does, without building a
    /// <see cref="StatusEvent"/> unless a subscriber or the failure log needs one.
    /// </summary>
    /// <param name="record">The status change.</param>
    /// <param name="cancellationToken">Stops waiting for room in the buffer; the queries stay updated and the event is not delivered.</param>
    internal ValueTask RecordAsync(in StatusRecord record, CancellationToken cancellationToken = default) =>
        RecordAsync(record, statusEvent: null, cancellationToken);

    private ValueTask RecordAsync(in StatusRecord record, StatusEvent? statusEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record.ItemId, nameof(record));
        if ((uint)record.Status >= (uint)AllStatuses.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(record), record.Status, "Unknown item status.");
        }

        Apply(record);
        if (record.Status == ItemStatus.Failed)
        {
            _failures.Add(statusEvent ??= record.ToEvent());
        }

        if (_maxFinishedItems is { } max && Volatile.Read(ref _finishedCount) > max)
        {
            ForgetOldestFinished(max);
        }

        return _dispatcher.HasStatusSubscribers ? _dispatcher.EnqueueAsync(statusEvent ?? record.ToEvent(), cancellationToken) : default;
    }

    /// <summary>Records a task event for the task subscribers; completes synchronously unless the event buffer is full.</summary>
    /// <param name="taskEvent">The event.</param>
    /// <param name="cancellationToken">Stops waiting for room in the buffer.</param>
    internal ValueTask RecordAsync(TaskEvent taskEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskEvent);
        return _dispatcher.HasTaskSubscribers ? _dispatcher.EnqueueAsync(taskEvent, cancellationToken) : default;
    }

    /// <summary>
    /// Tells the tracker that <paramref name="stageName"/> is a pipeline's last stage, so that only Completed or
    /// Skipped there makes an item finished (see <see cref="StatusTrackerOptions.MaxFinishedItems"/>). Without any
    /// final stage, Completed or Skipped in any stage counts as finished.
    /// </summary>
    /// <param name="stageName">The last stage's name.</param>
    internal void RegisterFinalStage(string stageName)
    {
        ArgumentNullException.ThrowIfNull(stageName);
        lock (_trimLock)
        {
            if (Array.IndexOf(_finalStages, stageName) < 0)
            {
                _finalStages = [.. _finalStages, stageName];
            }
        }
    }

    private void Apply(in StatusRecord record)
    {
        while (true)
        {
            TrackedItem item = _items.GetOrAdd(
                record.ItemId,
                static (id, self) => new TrackedItem(id, Interlocked.Increment(ref self._lastFirstSeen), self._maxHistoryPerItem),
                this);
            lock (item)
            {
                if (item.Removed)
                {
                    continue; // forgotten between the lookup and the lock: start a fresh record
                }

                // Both counter changes happen under the item's lock, so an item moves between counts one event at a time.
                if (item.Append(record) is { } previous)
                {
                    Interlocked.Decrement(ref _statusCounts[(int)previous]);
                }

                Interlocked.Increment(ref _statusCounts[(int)record.Status]);
                if (_maxFinishedItems is not null)
                {
                    UpdateFinishedLocked(item, record);
                }
            }

            break;
        }
    }

    private void UpdateFinishedLocked(TrackedItem item, in StatusRecord record)
    {
        if (IsFinished(record))
        {
            if (!item.Finished)
            {
                item.Finished = true;
                Interlocked.Increment(ref _finishedCount);
            }

            // A later finish of the same item enqueues it again; the version tells the older entry is stale.
            _finishedOrder.Enqueue((item, item.Version));
        }
        else if (item.Finished)
        {
            item.Finished = false;
            Interlocked.Decrement(ref _finishedCount);
        }
    }

    private bool IsFinished(in StatusRecord record)
    {
        switch (record.Status)
        {
            case ItemStatus.Failed:
            case ItemStatus.Cancelled:
                return true;
            case ItemStatus.Completed:
            case ItemStatus.Skipped:
                string[] finalStages = Volatile.Read(ref _finalStages);
                return finalStages.Length == 0 || Array.IndexOf(finalStages, record.Stage) >= 0;
            default:
                return false;
        }
    }

    private void ForgetOldestFinished(int max)
    {
        // One trimmer at a time is enough: a thread that finds the lock taken leaves the work to its holder, so the
        // count can exceed the limit by at most the number of threads recording at that moment, until the next finish.
        if (!_trimLock.TryEnter())
        {
            return;
        }

        try
        {
            while (Volatile.Read(ref _finishedCount) > max && _finishedOrder.TryDequeue(out (TrackedItem Item, long Version) entry))
            {
                TrackedItem item = entry.Item;
                lock (item)
                {
                    if (item.Removed || !item.Finished || item.Version != entry.Version)
                    {
                        continue; // stale: the item moved on (or finished again, with a newer entry further back)
                    }

                    // The status counts and failure counts keep the item: only its record goes.
                    item.Removed = true;
                    _items.TryRemove(new KeyValuePair<object, TrackedItem>(item.Id, item));
                    Interlocked.Decrement(ref _finishedCount);
                }
            }
        }
        finally
        {
            _trimLock.Exit();
        }
    }
}
