using System.Globalization;
using AntFlow.Dataflow;

namespace WebDashboard;

/// <summary>
/// Collects the status tracker's item and task events between two batches sent to the page. A run produces a dozen
/// events per item, far more than a page wants to draw, so each batch lists only the newest ones (failures and
/// retries are kept in preference) and says how many there were in all.
/// </summary>
internal sealed class ActivityFeed
{
    private const int MaxPerBatch = 40;
    private const int MaxNotablePerBatch = 40;
    private const int RecentCapacity = 40;

    private readonly Lock _lock = new();
    private readonly Queue<ActivityDto> _pending = new(); // protected by _lock; newest MaxPerBatch routine events
    private readonly Queue<ActivityDto> _notable = new(); // protected by _lock; newest failures and retries
    private readonly Queue<ActivityDto> _recent = new(); // protected by _lock; what a new page starts with
    private int _total; // protected by _lock

    public static ActivityDto FromStatus(StatusEvent e)
    {
        string? error = e.Metadata.TryGetValue("error", out object? message) ? message as string : null;
        int? attempt = e.Metadata.TryGetValue("attempt", out object? next) && next is int n ? n : null;
        return new ActivityDto("item", FormatId(e.ItemId), e.Stage, e.Status.ToString(), e.Worker,
            Task: null, attempt, DurationMs: null, error, e.Timestamp);
    }

    public static ActivityDto FromTask(TaskEvent e) =>
        new("task", FormatId(e.ItemId), e.Stage, e.EventType.ToString(), e.Worker, e.TaskName, e.Attempt,
            e.Duration?.TotalMilliseconds, e.Error?.Message, e.Timestamp);

    /// <summary>Item ids are whatever the id selector returned; the page shows them as text.</summary>
    public static string FormatId(object? id) => Convert.ToString(id, CultureInfo.InvariantCulture) ?? string.Empty;

    public void Add(ActivityDto activity)
    {
        bool notable = activity.Event is nameof(ItemStatus.Failed) or nameof(ItemStatus.Retrying) or nameof(TaskEventType.Fail) or nameof(TaskEventType.Retry);
        lock (_lock)
        {
            _total++;
            Enqueue(notable ? _notable : _pending, activity, notable ? MaxNotablePerBatch : MaxPerBatch);
            Enqueue(_recent, activity, RecentCapacity);
        }
    }

    /// <summary>Takes the events recorded since the last call, oldest first; null when there were none.</summary>
    public EventsMessage? Drain(int runId)
    {
        lock (_lock)
        {
            if (_total == 0)
            {
                return null;
            }

            ActivityDto[] events = [.. _notable.Concat(_pending).OrderBy(a => a.Time)];
            var message = new EventsMessage(runId, _total, events);
            _pending.Clear();
            _notable.Clear();
            _total = 0;
            return message;
        }
    }

    /// <summary>The newest events, oldest first.</summary>
    public IReadOnlyList<ActivityDto> GetRecent()
    {
        lock (_lock)
        {
            return [.. _recent];
        }
    }

    private static void Enqueue(Queue<ActivityDto> queue, ActivityDto activity, int capacity)
    {
        if (queue.Count == capacity)
        {
            queue.Dequeue();
        }

        queue.Enqueue(activity);
    }
}
