using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Moq;

namespace AntFlow.Dataflow.Tests.Monitoring;

[TestFixture]
public sealed class StatusTrackerTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    // ---- construction -------------------------------------------------------------------------------------------

    [Test]
    public void Ctor_NullOptions_ThrowsArgumentNullException()
    {
        Assert.That(() => new StatusTracker(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("options"));
    }

    [Test]
    public void Ctor_NullLoggerFactory_ThrowsArgumentNullException()
    {
        Assert.That(() => new StatusTracker(new StatusTrackerOptions(), null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("loggerFactory"));
    }

    [Test, CancelAfter(10_000)]
    public async Task Ctor_OptionsChangedAfterwards_TrackerKeepsCopiedValues(CancellationToken cancellationToken)
    {
        var options = new StatusTrackerOptions { MaxHistoryPerItem = 3 };
        await using var tracker = new StatusTracker(options);
        options.MaxHistoryPerItem = 1;

        await RecordLifecycleAsync(tracker, 1L, "Fetch", ItemStatus.Queued, ItemStatus.InProgress, ItemStatus.Completed);

        Assert.That(tracker.GetHistory(1L), Has.Count.EqualTo(3));
    }

    // ---- queries ------------------------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task RecordAsync_NoSubscribers_CompletesSynchronouslyAndUpdatesStatus(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        StatusEvent queued = Event(1L, ItemStatus.Queued);

        ValueTask pending = tracker.RecordAsync(queued, cancellationToken);

        Assert.That(pending.IsCompletedSuccessfully, Is.True);
        await pending;
        Assert.That(tracker.GetStatus(1L), Is.EqualTo(queued));
    }

    [Test]
    public void RecordAsync_NullEvent_ThrowsArgumentNullException()
    {
        var tracker = new StatusTracker();

        Assert.Multiple(() =>
        {
            Assert.That(() => tracker.RecordAsync((StatusEvent)null!), Throws.ArgumentNullException);
            Assert.That(() => tracker.RecordAsync((TaskEvent)null!), Throws.ArgumentNullException);
        });
    }

    [Test]
    public void RecordAsync_UndefinedStatus_ThrowsArgumentOutOfRangeException()
    {
        var tracker = new StatusTracker();

        Assert.That(() => tracker.RecordAsync(Event(1L, (ItemStatus)42)), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(tracker.GetStatus(1L), Is.Null);
    }

    [Test, CancelAfter(10_000)]
    public async Task GetStatus_SeveralEvents_ReturnsLatest(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        await RecordLifecycleAsync(tracker, "order-7", "Fetch", ItemStatus.Queued, ItemStatus.InProgress);
        StatusEvent done = Event("order-7", ItemStatus.Completed, worker: "Fetch-W2", second: 9);

        await tracker.RecordAsync(done, cancellationToken);

        StatusEvent? latest = tracker.GetStatus("order-7");
        Assert.That(latest, Is.EqualTo(done));
        Assert.That(latest!.Worker, Is.EqualTo("Fetch-W2"));
    }

    [Test]
    public void GetStatus_UnknownItem_ReturnsNull()
    {
        var tracker = new StatusTracker();

        Assert.That(tracker.GetStatus(99L), Is.Null);
    }

    [Test]
    public void GetStatus_NullId_ThrowsArgumentNullException()
    {
        var tracker = new StatusTracker();

        Assert.Multiple(() =>
        {
            Assert.That(() => tracker.GetStatus(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("itemId"));
            Assert.That(() => tracker.GetHistory(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("itemId"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task GetStatus_IdOfOtherIntegralType_FindsSequenceNumberId(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        await tracker.RecordAsync(Event(0L, ItemStatus.Queued), cancellationToken);
        await tracker.RecordAsync(Event(3L, ItemStatus.Queued), cancellationToken);

        // Events recorded under a different integral type still land on the same item.
        await tracker.RecordAsync(Event(3, ItemStatus.InProgress), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetStatus(0)?.ItemId, Is.EqualTo(0L));
            Assert.That(tracker.GetStatus((byte)3)?.Status, Is.EqualTo(ItemStatus.InProgress));
            Assert.That(tracker.GetStatus(3u)?.Status, Is.EqualTo(ItemStatus.InProgress));
            Assert.That(tracker.GetStatus((ulong)3)?.Status, Is.EqualTo(ItemStatus.InProgress));
            Assert.That(tracker.GetHistory((short)3), Has.Count.EqualTo(2));
            Assert.That(tracker.GetStatus(3.0), Is.Null);
            Assert.That(tracker.GetStats()[ItemStatus.Queued] + tracker.GetStats()[ItemStatus.InProgress], Is.EqualTo(2));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task GetHistory_SeveralEvents_OldestFirst(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        StatusEvent[] events =
        [
            Event(5L, ItemStatus.Queued, second: 1),
            Event(5L, ItemStatus.InProgress, worker: "Fetch-W0", second: 2),
            Event(5L, ItemStatus.Retrying, worker: "Fetch-W0", second: 3, metadata: new Dictionary<string, object?> { ["attempt"] = 2 }),
            Event(5L, ItemStatus.InProgress, worker: "Fetch-W1", second: 4),
            Event(5L, ItemStatus.Completed, worker: "Fetch-W1", second: 5),
        ];
        foreach (StatusEvent e in events)
        {
            await tracker.RecordAsync(e, cancellationToken);
        }

        Assert.That(tracker.GetHistory(5L), Is.EqualTo(events));
    }

    [TestCase(100, 10)]
    [TestCase(5, 12)]
    [TestCase(1, 3)]
    [CancelAfter(10_000)]
    public async Task GetHistory_HistoryGrowsAndWraps_KeepsTheNewestInOrder(int cap, int count, CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxHistoryPerItem = cap });
        StatusEvent[] events = Enumerable.Range(0, count).Select(i => Event("job", (ItemStatus)(i % 3), second: i)).ToArray();
        foreach (StatusEvent e in events)
        {
            await tracker.RecordAsync(e, cancellationToken);
        }

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetHistory("job"), Is.EqualTo(events[Math.Max(0, count - cap)..]));
            Assert.That(tracker.GetStatus("job"), Is.EqualTo(events[^1]));
            Assert.That(tracker.GetByStatus(events[^1].Status), Is.EqualTo(new[] { events[^1] }));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task GetHistory_MoreEventsThanCap_KeepsNewest(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxHistoryPerItem = 3 });
        var events = Enumerable.Range(0, 7).Select(i => Event(1L, i % 2 == 0 ? ItemStatus.Queued : ItemStatus.InProgress, second: i)).ToArray();
        foreach (StatusEvent e in events)
        {
            await tracker.RecordAsync(e, cancellationToken);
        }

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetHistory(1L), Is.EqualTo(events[4..]));
            Assert.That(tracker.GetStatus(1L), Is.EqualTo(events[6]));
        });
    }

    [Test]
    public void GetHistory_UnknownItem_Empty()
    {
        var tracker = new StatusTracker();

        Assert.That(tracker.GetHistory("nope"), Is.Empty);
    }

    [Test, CancelAfter(10_000)]
    public async Task GetHistory_ReturnedList_IsACopy(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        IReadOnlyList<StatusEvent> before = tracker.GetHistory(1L);

        await tracker.RecordAsync(Event(1L, ItemStatus.InProgress), cancellationToken);

        Assert.That(before, Has.Count.EqualTo(1));
    }

    [Test]
    public void GetStats_NothingRecorded_EveryStatusPresentWithZero()
    {
        var tracker = new StatusTracker();

        IReadOnlyDictionary<ItemStatus, int> stats = tracker.GetStats();

        Assert.That(stats.Keys, Is.EquivalentTo(Enum.GetValues<ItemStatus>()));
        Assert.That(stats.Values, Is.All.Zero);
    }

    [Test, CancelAfter(10_000)]
    public async Task GetStats_Transitions_EachItemCountedOnceByLatestStatus(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();

        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.Queued), cancellationToken);
        AssertStats(tracker, queued: 2);

        await tracker.RecordAsync(Event(1L, ItemStatus.InProgress), cancellationToken);
        AssertStats(tracker, queued: 1, inProgress: 1);

        await tracker.RecordAsync(Event(1L, ItemStatus.Retrying), cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.InProgress), cancellationToken);
        AssertStats(tracker, inProgress: 1, retrying: 1);

        await tracker.RecordAsync(Event(1L, ItemStatus.InProgress), cancellationToken);
        await tracker.RecordAsync(Event(1L, ItemStatus.Completed), cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.Failed), cancellationToken);
        await tracker.RecordAsync(Event(3L, ItemStatus.Skipped), cancellationToken);
        await tracker.RecordAsync(Event(4L, ItemStatus.Cancelled), cancellationToken);
        AssertStats(tracker, completed: 1, failed: 1, skipped: 1, cancelled: 1);

        // The next stage: item 1 goes back into a queue, so it no longer counts as completed.
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued, stage: "Save"), cancellationToken);
        AssertStats(tracker, queued: 1, failed: 1, skipped: 1, cancelled: 1);
    }

    [Test, CancelAfter(10_000)]
    public async Task GetByStatus_MixedItems_LatestEventsOfMatchingItemsInFirstSeenOrder(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        foreach (long id in new[] { 5L, 1L, 3L, 2L })
        {
            await tracker.RecordAsync(Event(id, ItemStatus.Queued), cancellationToken);
        }

        StatusEvent fail3 = Event(3L, ItemStatus.Failed, second: 3);
        StatusEvent fail5 = Event(5L, ItemStatus.Failed, second: 5);
        await tracker.RecordAsync(fail3, cancellationToken);
        await tracker.RecordAsync(fail5, cancellationToken);
        await tracker.RecordAsync(Event(1L, ItemStatus.Completed), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetByStatus(ItemStatus.Failed), Is.EqualTo(new[] { fail5, fail3 }));
            Assert.That(tracker.GetByStatus(ItemStatus.Queued).Select(e => e.ItemId), Is.EqualTo(new object[] { 2L }));
            Assert.That(tracker.GetByStatus(ItemStatus.Retrying), Is.Empty);
        });
    }

    // ---- error summary ------------------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task GetErrorSummary_SeveralFailures_CountsByTypeAndStageWithDetails(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        var boom = new InvalidOperationException("boom");
        var slow = new TimeoutException("too slow");
        var bad = new InvalidOperationException("bad input");
        await tracker.RecordAsync(Event(1L, ItemStatus.InProgress), cancellationToken);
        await tracker.RecordAsync(Failure(1L, boom, "Fetch", attempts: 3, second: 1), cancellationToken);
        await tracker.RecordAsync(Failure(2L, slow, "Fetch", attempts: 1, second: 2), cancellationToken);
        await tracker.RecordAsync(Failure("x", bad, "Save", attempts: 2, second: 3), cancellationToken);

        ErrorSummary summary = tracker.GetErrorSummary();

        Assert.Multiple(() =>
        {
            Assert.That(summary.TotalFailed, Is.EqualTo(3));
            Assert.That(summary.ErrorsByType, Is.EquivalentTo(new Dictionary<string, int> { ["InvalidOperationException"] = 2, ["TimeoutException"] = 1 }));
            Assert.That(summary.ErrorsByStage, Is.EquivalentTo(new Dictionary<string, int> { ["Fetch"] = 2, ["Save"] = 1 }));
            Assert.That(summary.FailedItems, Has.Count.EqualTo(3));
            Assert.That(summary.FailedItems.Select(f => f.ItemId), Is.EqualTo(new object[] { 1L, 2L, "x" }));
            Assert.That(tracker.GetFailedItems(), Is.EqualTo(summary.FailedItems));
        });

        FailedItem first = summary.FailedItems[0];
        Assert.Multiple(() =>
        {
            Assert.That(first.Error, Is.EqualTo("boom"));
            Assert.That(first.ErrorType, Is.EqualTo("InvalidOperationException"));
            Assert.That(first.Stage, Is.EqualTo("Fetch"));
            Assert.That(first.Attempts, Is.EqualTo(3));
            Assert.That(first.Timestamp, Is.EqualTo(Start.AddSeconds(1)));
            Assert.That(first.Exception, Is.SameAs(boom));
            Assert.That(summary.FailedItems[2].Attempts, Is.EqualTo(2));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task GetErrorSummary_FailureWithOnlyTheException_FallsBackOnIt(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        var error = new ArgumentException("no good");
        await tracker.RecordAsync(Event(1L, ItemStatus.Failed, metadata: new Dictionary<string, object?> { ["exception"] = error, ["attempts"] = 4L }), cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.Failed), cancellationToken);

        IReadOnlyList<FailedItem> failed = tracker.GetFailedItems();

        Assert.Multiple(() =>
        {
            Assert.That(failed[0].Error, Is.EqualTo("no good"));
            Assert.That(failed[0].ErrorType, Is.EqualTo("ArgumentException"));
            Assert.That(failed[0].Attempts, Is.EqualTo(4));
            Assert.That(failed[1].Error, Is.Empty);
            Assert.That(failed[1].ErrorType, Is.EqualTo("Unknown"));
            Assert.That(failed[1].Attempts, Is.EqualTo(1));
            Assert.That(tracker.GetErrorSummary().ErrorsByType, Is.EquivalentTo(new Dictionary<string, int> { ["ArgumentException"] = 1, ["Unknown"] = 1 }));
        });
    }

    [Test]
    public void GetErrorSummary_NoFailures_Empty()
    {
        var tracker = new StatusTracker();

        ErrorSummary summary = tracker.GetErrorSummary();

        Assert.Multiple(() =>
        {
            Assert.That(summary.TotalFailed, Is.Zero);
            Assert.That(summary.ErrorsByType, Is.Empty);
            Assert.That(summary.ErrorsByStage, Is.Empty);
            Assert.That(summary.FailedItems, Is.Empty);
        });
    }

    // ---- subscribers --------------------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_StatusAndTaskEvents_DeliveredInRecordedOrder(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        var received = new List<object>();
        using IDisposable statusSubscription = tracker.Subscribe((StatusEvent e) => { received.Add(e); return Task.CompletedTask; });
        using IDisposable taskSubscription = tracker.Subscribe(async (TaskEvent e) => { await Task.Yield(); received.Add(e); });
        var recorded = new List<object>();

        for (int i = 0; i < 200; i++)
        {
            StatusEvent status = Event((long)i, ItemStatus.InProgress, worker: "Fetch-W0");
            TaskEvent task = TaskEventFor((long)i, TaskEventType.Start);
            await tracker.RecordAsync(status, cancellationToken);
            await tracker.RecordAsync(task, cancellationToken);
            recorded.Add(status);
            recorded.Add(task);
        }

        await tracker.FlushAsync(cancellationToken);

        Assert.That(received, Is.EqualTo(recorded));
    }

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_TwoSubscribers_EachGetsEveryEvent(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        var first = new List<object>();
        var second = new List<object>();
        using IDisposable a = tracker.Subscribe((StatusEvent e) => { first.Add(e.ItemId); return Task.CompletedTask; });
        using IDisposable b = tracker.Subscribe((StatusEvent e) => { second.Add(e.ItemId); return Task.CompletedTask; });

        for (long i = 0; i < 10; i++)
        {
            await tracker.RecordAsync(Event(i, ItemStatus.Queued), cancellationToken);
        }

        await tracker.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(Enumerable.Range(0, 10).Select(i => (object)(long)i)));
            Assert.That(second, Is.EqualTo(first));
        });
    }

    [Test]
    public void Subscribe_NullHandler_ThrowsArgumentNullException()
    {
        var tracker = new StatusTracker();

        Assert.Multiple(() =>
        {
            Assert.That(() => tracker.Subscribe((Func<StatusEvent, Task>)null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("handler"));
            Assert.That(() => tracker.Subscribe((Func<TaskEvent, Task>)null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("handler"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_DisposeSubscription_StopsCalls(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        var received = new ConcurrentQueue<object>();
        var kept = new ConcurrentQueue<object>();
        IDisposable subscription = tracker.Subscribe((StatusEvent e) => { received.Enqueue(e.ItemId); return Task.CompletedTask; });
        using IDisposable other = tracker.Subscribe((StatusEvent e) => { kept.Enqueue(e.ItemId); return Task.CompletedTask; });
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        subscription.Dispose();
        subscription.Dispose(); // a second dispose does nothing
        await tracker.RecordAsync(Event(2L, ItemStatus.Queued), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(received, Is.EqualTo(new object[] { 1L }));
            Assert.That(kept, Is.EqualTo(new object[] { 1L, 2L }));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_DisposedWhileEventsBuffered_GetsNoneOfThem(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var late = new ConcurrentQueue<object>();
        using IDisposable blocker = tracker.Subscribe(async (StatusEvent e) => { entered.TrySetResult(); await gate.Task; });
        IDisposable subscription = tracker.Subscribe((StatusEvent e) => { late.Enqueue(e.ItemId); return Task.CompletedTask; });
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await entered.Task.WaitAsync(cancellationToken); // event 1 is being delivered: the second subscriber has not seen it yet
        await tracker.RecordAsync(Event(2L, ItemStatus.Queued), cancellationToken);

        subscription.Dispose();
        gate.SetResult();
        await tracker.FlushAsync(cancellationToken);

        Assert.That(late, Is.Empty);
    }

    [Test, CancelAfter(10_000)]
    public async Task HasTaskSubscribers_FollowsTaskSubscriptions(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        using IDisposable statusOnly = tracker.Subscribe((StatusEvent _) => Task.CompletedTask);
        Assert.That(tracker.HasTaskSubscribers, Is.False);

        IDisposable subscription = tracker.Subscribe((TaskEvent _) => Task.CompletedTask);
        Assert.That(tracker.HasTaskSubscribers, Is.True);

        subscription.Dispose();
        Assert.That(tracker.HasTaskSubscribers, Is.False);
    }

    [Test, CancelAfter(10_000)]
    public async Task RecordAsync_TaskEventWithoutTaskSubscribers_NotBuffered(CancellationToken cancellationToken)
    {
        // With a one-event buffer held by a blocked status subscriber, a buffered task event would make the next write wait.
        await using var tracker = new StatusTracker(new StatusTrackerOptions { EventBufferCapacity = 1 });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable blocker = tracker.Subscribe(async (StatusEvent e) => { entered.TrySetResult(); await gate.Task; });
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await entered.Task.WaitAsync(cancellationToken);

        ValueTask taskEvent = tracker.RecordAsync(TaskEventFor(1L, TaskEventType.Start), cancellationToken);
        ValueTask status = tracker.RecordAsync(Event(2L, ItemStatus.Queued), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(taskEvent.IsCompletedSuccessfully, Is.True);
            Assert.That(status.IsCompletedSuccessfully, Is.True);
        });
        await taskEvent;
        await status;
        gate.SetResult();
    }

    [Test, CancelAfter(10_000)]
    public async Task RecordAsync_BufferFull_WaitsForRoomWhileQueriesUpdateAtOnce(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { EventBufferCapacity = 1 });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new ConcurrentQueue<object>();
        using IDisposable subscription = tracker.Subscribe(async (StatusEvent e) =>
        {
            received.Enqueue(e.ItemId);
            entered.TrySetResult();
            await gate.Task;
        });

        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await entered.Task.WaitAsync(cancellationToken); // the dispatcher took event 1 and is stuck in the subscriber
        ValueTask second = tracker.RecordAsync(Event(2L, ItemStatus.Queued), cancellationToken); // fills the buffer
        Task third = tracker.RecordAsync(Event(3L, ItemStatus.Queued), cancellationToken).AsTask();

        Assert.Multiple(() =>
        {
            Assert.That(second.IsCompletedSuccessfully, Is.True);
            Assert.That(third.IsCompleted, Is.False);
            Assert.That(tracker.GetStatus(3L)?.Status, Is.EqualTo(ItemStatus.Queued));
            Assert.That(tracker.GetStats()[ItemStatus.Queued], Is.EqualTo(3));
        });

        gate.SetResult();
        await second;
        await third.WaitAsync(cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        Assert.That(received, Is.EqualTo(new object[] { 1L, 2L, 3L }));
    }

    [Test, CancelAfter(10_000)]
    public async Task RecordAsync_CancelledWhileWaitingForRoom_CancelsButKeepsQueriesUpdated(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { EventBufferCapacity = 1 });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new ConcurrentQueue<object>();
        using IDisposable subscription = tracker.Subscribe(async (StatusEvent e) =>
        {
            received.Enqueue(e.ItemId);
            entered.TrySetResult();
            await gate.Task;
        });
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await entered.Task.WaitAsync(cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.Queued), cancellationToken);
        using var cts = new CancellationTokenSource();
        Task third = tracker.RecordAsync(Event(3L, ItemStatus.Failed), cts.Token).AsTask();
        Assert.That(third.IsCompleted, Is.False);

        await cts.CancelAsync();

        Assert.That(async () => await third, Throws.InstanceOf<OperationCanceledException>());
        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetStatus(3L)?.Status, Is.EqualTo(ItemStatus.Failed));
            Assert.That(tracker.GetErrorSummary().TotalFailed, Is.EqualTo(1));
        });
        gate.SetResult();
        await tracker.FlushAsync(cancellationToken);
        Assert.That(received, Is.EqualTo(new object[] { 1L, 2L }));
    }

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_SlowSubscriber_RecordingAndQueriesUnaffected(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new ConcurrentQueue<object>();
        using IDisposable slow = tracker.Subscribe(async (StatusEvent e) =>
        {
            await gate.Task;
            received.Enqueue(e.ItemId);
        });

        for (long i = 0; i < 100; i++)
        {
            // The subscriber never returns before the gate opens, so a synchronous completion proves it did not run here.
            ValueTask queued = tracker.RecordAsync(Event(i, ItemStatus.Queued), cancellationToken);
            ValueTask done = tracker.RecordAsync(Event(i, ItemStatus.Completed), cancellationToken);
            Assert.That(queued.IsCompletedSuccessfully && done.IsCompletedSuccessfully, Is.True);
            await queued;
            await done;
        }

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetStats()[ItemStatus.Completed], Is.EqualTo(100));
            Assert.That(tracker.GetHistory(42L).Select(e => e.Status), Is.EqualTo(new[] { ItemStatus.Queued, ItemStatus.Completed }));
            Assert.That(received, Is.Empty);
        });

        gate.SetResult();
        await tracker.FlushAsync(cancellationToken);
        Assert.That(received, Has.Count.EqualTo(200));
    }

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_ThrowingSubscriber_LoggedAndOthersStillCalled(CancellationToken cancellationToken)
    {
        var logger = new ListLogger();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logger));
        await using var tracker = new StatusTracker(new StatusTrackerOptions(), loggerFactory);
        var received = new ConcurrentQueue<object>();
        using IDisposable throwsAtOnce = tracker.Subscribe((StatusEvent e) => throw new InvalidOperationException("sync"));
        using IDisposable throwsLater = tracker.Subscribe(async (StatusEvent e) =>
        {
            await Task.Yield();
            throw new FormatException("async");
        });
        using IDisposable healthy = tracker.Subscribe((StatusEvent e) => { received.Enqueue(e.ItemId); return Task.CompletedTask; });

        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.Queued), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        ListLogger.LogEntry[] warnings = [.. logger.Entries.Where(e => e.EventId.Id == 300)];
        Assert.Multiple(() =>
        {
            Assert.That(received, Is.EqualTo(new object[] { 1L, 2L }));
            Assert.That(warnings, Has.Length.EqualTo(4));
            Assert.That(warnings.Select(w => w.Level), Is.All.EqualTo(LogLevel.Warning));
            Assert.That(warnings.Select(w => w.Exception?.GetType()), Is.EqualTo(new[] { typeof(InvalidOperationException), typeof(FormatException), typeof(InvalidOperationException), typeof(FormatException) }));
            Assert.That(warnings[0].Message, Does.Contain("item 1").And.Contain("Queued").And.Contain("Fetch"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_ThrowingTaskSubscriber_LoggedWithTaskDetails(CancellationToken cancellationToken)
    {
        var logger = new ListLogger();
        await using var tracker = new StatusTracker { Logger = logger };
        using IDisposable subscription = tracker.Subscribe((TaskEvent e) => throw new InvalidOperationException("no"));

        await tracker.RecordAsync(TaskEventFor(8L, TaskEventType.Fail), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        ListLogger.LogEntry entry = logger.Entries.Single();
        Assert.Multiple(() =>
        {
            Assert.That(entry.EventId.Id, Is.EqualTo(301));
            Assert.That(entry.Message, Does.Contain("item 8").And.Contain("Fail").And.Contain("parse"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Logger_TrackerHasItsOwnFactory_PipelineLoggerIgnored(CancellationToken cancellationToken)
    {
        var own = new ListLogger();
        var pipelineLogger = new ListLogger();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(own));
        await using var tracker = new StatusTracker(new StatusTrackerOptions(), loggerFactory);
        tracker.Logger = pipelineLogger;
        using IDisposable subscription = tracker.Subscribe((StatusEvent e) => throw new InvalidOperationException("no"));

        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(own.Entries, Has.Count.EqualTo(1));
            Assert.That(pipelineLogger.Entries, Is.Empty);
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Subscribe_ThrowingLogger_DeliveryContinues(CancellationToken cancellationToken)
    {
        var logger = new Mock<ILogger>();
        logger.Setup(l => l.IsEnabled(It.IsAny<LogLevel>())).Returns(true);
        logger.Setup(l => l.Log(It.IsAny<LogLevel>(), It.IsAny<EventId>(), It.IsAny<It.IsAnyType>(), It.IsAny<Exception?>(), It.IsAny<Func<It.IsAnyType, Exception?, string>>()))
            .Throws(new InvalidOperationException("logger down"));
        await using var tracker = new StatusTracker { Logger = logger.Object };
        var received = new ConcurrentQueue<object>();
        using IDisposable throwing = tracker.Subscribe((StatusEvent e) => throw new InvalidOperationException("no"));
        using IDisposable healthy = tracker.Subscribe((StatusEvent e) => { received.Enqueue(e.ItemId); return Task.CompletedTask; });

        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.Queued), cancellationToken);
        await tracker.FlushAsync(cancellationToken);

        Assert.That(received, Is.EqualTo(new object[] { 1L, 2L }));
    }

    // ---- flush and dispose --------------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task FlushAsync_NoSubscribers_CompletesAtOnce(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);

        Task flush = tracker.FlushAsync(cancellationToken);

        Assert.That(flush.IsCompletedSuccessfully, Is.True);
        await flush;
    }

    [Test, CancelAfter(10_000)]
    public async Task FlushAsync_SubscriberBlocked_WaitsThenCancels(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = tracker.Subscribe(async (StatusEvent e) => await gate.Task);
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        using var cts = new CancellationTokenSource();

        Task flush = tracker.FlushAsync(cts.Token);
        Assert.That(flush.IsCompleted, Is.False);
        await cts.CancelAsync();

        Assert.That(async () => await flush, Throws.InstanceOf<OperationCanceledException>());
        gate.SetResult();
    }

    [Test, CancelAfter(10_000)]
    public async Task DisposeAsync_EventsBufferedAndWriterWaiting_DeliversAllBeforeCompleting(CancellationToken cancellationToken)
    {
        var tracker = new StatusTracker(new StatusTrackerOptions { EventBufferCapacity = 1 });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new ConcurrentQueue<object>();
        using IDisposable subscription = tracker.Subscribe(async (StatusEvent e) =>
        {
            received.Enqueue(e.ItemId);
            entered.TrySetResult();
            await gate.Task;
        });
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);
        await entered.Task.WaitAsync(cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.Queued), cancellationToken);
        Task waitingWriter = tracker.RecordAsync(Event(3L, ItemStatus.Queued), cancellationToken).AsTask();

        Task dispose = tracker.DisposeAsync().AsTask();
        Assert.That(dispose.IsCompleted, Is.False);
        gate.SetResult();
        await dispose.WaitAsync(cancellationToken);
        await waitingWriter.WaitAsync(cancellationToken);

        Assert.That(received, Is.EqualTo(new object[] { 1L, 2L, 3L }));
    }

    [Test, CancelAfter(10_000)]
    public async Task DisposeAsync_Afterwards_QueriesWorkAndSubscribeThrows(CancellationToken cancellationToken)
    {
        var tracker = new StatusTracker();
        var received = new ConcurrentQueue<object>();
        using IDisposable subscription = tracker.Subscribe((StatusEvent e) => { received.Enqueue(e.ItemId); return Task.CompletedTask; });
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);

        await tracker.DisposeAsync();
        await tracker.DisposeAsync(); // idempotent
        ValueTask late = tracker.RecordAsync(Event(2L, ItemStatus.Completed), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(late.IsCompletedSuccessfully, Is.True);
            Assert.That(tracker.GetStatus(2L)?.Status, Is.EqualTo(ItemStatus.Completed));
            Assert.That(received, Is.EqualTo(new object[] { 1L }));
            Assert.That(() => tracker.Subscribe((StatusEvent _) => Task.CompletedTask), Throws.InstanceOf<ObjectDisposedException>());
            Assert.That(tracker.FlushAsync(cancellationToken).IsCompletedSuccessfully, Is.True);
        });
        await late;
    }

    // ---- finished-item limit ------------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task MaxFinishedItems_MoreFinished_OldestForgottenButCountsKept(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxFinishedItems = 3 });

        for (long i = 0; i < 10; i++)
        {
            await RecordLifecycleAsync(tracker, i, "Fetch", ItemStatus.Queued, ItemStatus.InProgress, ItemStatus.Completed);
        }

        Assert.Multiple(() =>
        {
            Assert.That(Enumerable.Range(0, 7).Select(i => tracker.GetStatus((long)i)), Is.All.Null);
            Assert.That(Enumerable.Range(7, 3).Select(i => tracker.GetStatus((long)i)?.Status), Is.All.EqualTo(ItemStatus.Completed));
            Assert.That(tracker.GetHistory(0L), Is.Empty);
            Assert.That(tracker.GetByStatus(ItemStatus.Completed).Select(e => e.ItemId), Is.EqualTo(new object[] { 7L, 8L, 9L }));
            Assert.That(tracker.GetStats()[ItemStatus.Completed], Is.EqualTo(10));
            Assert.That(tracker.GetStats().Values.Sum(), Is.EqualTo(10));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task MaxFinishedItems_ItemsStillRunning_NeverForgotten(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxFinishedItems = 1 });
        await tracker.RecordAsync(Event("running", ItemStatus.InProgress), cancellationToken);
        await tracker.RecordAsync(Event("waiting", ItemStatus.Retrying), cancellationToken);

        for (long i = 0; i < 5; i++)
        {
            await tracker.RecordAsync(Event(i, ItemStatus.Cancelled), cancellationToken);
        }

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetStatus("running")?.Status, Is.EqualTo(ItemStatus.InProgress));
            Assert.That(tracker.GetStatus("waiting")?.Status, Is.EqualTo(ItemStatus.Retrying));
            Assert.That(tracker.GetStatus(3L), Is.Null);
            Assert.That(tracker.GetStatus(4L)?.Status, Is.EqualTo(ItemStatus.Cancelled));
            Assert.That(tracker.GetStats()[ItemStatus.Cancelled], Is.EqualTo(5));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task MaxFinishedItems_Failures_AggregatesKeptAndRecentFailuresListed(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxFinishedItems = 2 });

        for (long i = 0; i < 5; i++)
        {
            Exception error = i % 2 == 0 ? new TimeoutException("slow") : new InvalidOperationException("bad");
            await tracker.RecordAsync(Failure(i, error, i < 3 ? "Fetch" : "Save", attempts: 2), cancellationToken);
        }

        ErrorSummary summary = tracker.GetErrorSummary();
        Assert.Multiple(() =>
        {
            Assert.That(summary.TotalFailed, Is.EqualTo(5));
            Assert.That(summary.ErrorsByType, Is.EquivalentTo(new Dictionary<string, int> { ["TimeoutException"] = 3, ["InvalidOperationException"] = 2 }));
            Assert.That(summary.ErrorsByStage, Is.EquivalentTo(new Dictionary<string, int> { ["Fetch"] = 3, ["Save"] = 2 }));
            Assert.That(summary.FailedItems.Select(f => f.ItemId), Is.EqualTo(new object[] { 3L, 4L }));
            Assert.That(tracker.GetStats()[ItemStatus.Failed], Is.EqualTo(5));
            Assert.That(tracker.GetStatus(0L), Is.Null);
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task MaxFinishedItems_ItemMovesToNextStage_NoLongerFinished(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxFinishedItems = 1 });
        await tracker.RecordAsync(Event(1L, ItemStatus.Completed, stage: "Fetch"), cancellationToken);
        await tracker.RecordAsync(Event(1L, ItemStatus.Queued, stage: "Save"), cancellationToken);

        await tracker.RecordAsync(Event(2L, ItemStatus.Completed, stage: "Save"), cancellationToken);
        await tracker.RecordAsync(Event(3L, ItemStatus.Completed, stage: "Save"), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetStatus(1L)?.Status, Is.EqualTo(ItemStatus.Queued));
            Assert.That(tracker.GetHistory(1L), Has.Count.EqualTo(2));
            Assert.That(tracker.GetStatus(2L), Is.Null);
            Assert.That(tracker.GetStatus(3L)?.Status, Is.EqualTo(ItemStatus.Completed));
            Assert.That(tracker.GetStats()[ItemStatus.Completed], Is.EqualTo(2));
            Assert.That(tracker.GetStats()[ItemStatus.Queued], Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task MaxFinishedItems_FinalStageRegistered_EarlierStagesDoNotFinishItems(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxFinishedItems = 1 });
        tracker.RegisterFinalStage("Save");
        await tracker.RecordAsync(Event(1L, ItemStatus.Completed, stage: "Fetch"), cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.Skipped, stage: "Fetch"), cancellationToken);

        await tracker.RecordAsync(Event(3L, ItemStatus.Completed, stage: "Save"), cancellationToken);
        await tracker.RecordAsync(Event(4L, ItemStatus.Skipped, stage: "Save"), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetStatus(1L)?.Status, Is.EqualTo(ItemStatus.Completed));
            Assert.That(tracker.GetStatus(2L)?.Status, Is.EqualTo(ItemStatus.Skipped));
            Assert.That(tracker.GetStatus(3L), Is.Null);
            Assert.That(tracker.GetStatus(4L)?.Status, Is.EqualTo(ItemStatus.Skipped));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task MaxFinishedItems_ForgottenIdRecordedAgain_StartsFreshHistory(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxFinishedItems = 1 });
        await tracker.RecordAsync(Event(1L, ItemStatus.Failed), cancellationToken);
        await tracker.RecordAsync(Event(2L, ItemStatus.Failed), cancellationToken);
        Assert.That(tracker.GetStatus(1L), Is.Null);

        await tracker.RecordAsync(Event(1L, ItemStatus.Queued), cancellationToken);

        Assert.That(tracker.GetHistory(1L).Select(e => e.Status), Is.EqualTo(new[] { ItemStatus.Queued }));
    }

    // ---- concurrency --------------------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task RecordAsync_ManyWorkersAtOnce_CountsAndHistoriesConsistent(CancellationToken cancellationToken)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { EventBufferCapacity = 64 });
        long delivered = 0;
        using IDisposable subscription = tracker.Subscribe((StatusEvent _) => { Interlocked.Increment(ref delivered); return Task.CompletedTask; });

        await Parallel.ForEachAsync(
            Enumerable.Range(0, 2_000),
            new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, ct) => await RecordLifecycleAsync(tracker, (long)i, "Fetch", ItemStatus.Queued, ItemStatus.InProgress, ItemStatus.Retrying, ItemStatus.InProgress, i % 10 == 0 ? ItemStatus.Failed : ItemStatus.Completed));
        await tracker.FlushAsync(cancellationToken);

        IReadOnlyDictionary<ItemStatus, int> stats = tracker.GetStats();
        Assert.Multiple(() =>
        {
            Assert.That(stats[ItemStatus.Completed], Is.EqualTo(1_800));
            Assert.That(stats[ItemStatus.Failed], Is.EqualTo(200));
            Assert.That(stats.Values.Sum(), Is.EqualTo(2_000));
            Assert.That(tracker.GetErrorSummary().TotalFailed, Is.EqualTo(200));
            Assert.That(tracker.GetHistory(1_234L), Has.Count.EqualTo(5));
            Assert.That(Interlocked.Read(ref delivered), Is.EqualTo(10_000));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task MaxFinishedItems_ManyWorkersAtOnce_BoundedAndCountsRight(CancellationToken cancellationToken)
    {
        const int parallelism = 8;
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxFinishedItems = 10 });

        await Parallel.ForEachAsync(
            Enumerable.Range(0, 2_000),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (i, ct) => await RecordLifecycleAsync(tracker, (long)i, "Fetch", ItemStatus.Queued, ItemStatus.InProgress, ItemStatus.Completed));

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetStats()[ItemStatus.Completed], Is.EqualTo(2_000));
            Assert.That(tracker.GetStats().Values.Sum(), Is.EqualTo(2_000));

            // A thread that finds another one trimming leaves the work to it, so a few extra may stay.
            Assert.That(tracker.GetByStatus(ItemStatus.Completed), Has.Count.InRange(10, 10 + parallelism));
        });
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static StatusEvent Event(object id, ItemStatus status, string stage = "Fetch", string? worker = null, int second = 0, IReadOnlyDictionary<string, object?>? metadata = null) =>
        new()
        {
            ItemId = id,
            Stage = stage,
            Status = status,
            Worker = worker,
            Timestamp = Start.AddSeconds(second),
            Metadata = metadata ?? new Dictionary<string, object?>(),
        };

    private static StatusEvent Failure(object id, Exception error, string stage, int attempts, int second = 0) =>
        Event(id, ItemStatus.Failed, stage, worker: $"{stage}-W0", second: second, metadata: new Dictionary<string, object?>
        {
            ["error"] = error.Message,
            ["errorType"] = error.GetType().Name,
            ["attempts"] = attempts,
            ["exception"] = error,
        });

    private static TaskEvent TaskEventFor(object id, TaskEventType type) =>
        new()
        {
            ItemId = id,
            Stage = "Fetch",
            TaskName = "parse",
            Worker = "Fetch-W0",
            EventType = type,
            Attempt = 1,
            Timestamp = Start,
        };

    private static async Task RecordLifecycleAsync(StatusTracker tracker, object id, string stage, params ItemStatus[] statuses)
    {
        foreach (ItemStatus status in statuses)
        {
            await tracker.RecordAsync(Event(id, status, stage));
        }
    }

    private static void AssertStats(StatusTracker tracker, int queued = 0, int inProgress = 0, int retrying = 0, int completed = 0, int failed = 0, int skipped = 0, int cancelled = 0)
    {
        Assert.That(tracker.GetStats(), Is.EquivalentTo(new Dictionary<ItemStatus, int>
        {
            [ItemStatus.Queued] = queued,
            [ItemStatus.InProgress] = inProgress,
            [ItemStatus.Retrying] = retrying,
            [ItemStatus.Completed] = completed,
            [ItemStatus.Failed] = failed,
            [ItemStatus.Skipped] = skipped,
            [ItemStatus.Cancelled] = cancelled,
        }));
    }
}
