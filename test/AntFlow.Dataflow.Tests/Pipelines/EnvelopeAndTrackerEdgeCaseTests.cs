using AntFlow.Dataflow.Execution;
using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Tests.Pipelines;

/// <summary>Edge cases of the packed envelope, the item ticket, the tracker's history ring and the never-throwing logger.</summary>
[TestFixture]
public sealed class EnvelopeAndTrackerEdgeCaseTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    // ---- envelope: attempt packing --------------------------------------------------------------------------------

    [Test]
    public void StageBuilder_KeptAndChangedAfterStage_ThrowsNamingTheStage()
    {
        // Stage(...) validates the stage and freezes it: a StageBuilder kept past it could otherwise change settings
        // that were already checked (say, attempts beyond the 10,000 an envelope can count, or zero workers).
        StageBuilder<int, int>? kept = null;
        Pipeline.Create<int>().Stage("Flaky", s => kept = s.Task("t", (int x) => x));

        Assert.Multiple(() =>
        {
            Assert.That(() => kept!.Retry(RetryMode.PerStage, attempts: 40_000, delay: TimeSpan.Zero),
                Throws.InvalidOperationException.With.Message.EqualTo("Stage 'Flaky' is already part of the pipeline; configure it inside the function given to Stage(...)."));
            Assert.That(() => kept!.Workers(0), Throws.InvalidOperationException);
            Assert.That(() => kept!.Task("u", (int x) => x), Throws.InvalidOperationException);
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_RetriedSkippedAndRetriedAgainAcrossStages_KeepsSkippedAndTheHighestAttempt(CancellationToken ct)
    {
        // Stage A: per-task retry, third call succeeds (attempt 3). B: skipped. C: per-stage retry, second try succeeds.
        int aCalls = 0, cCalls = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("A", s => s.Task("a", (int x) => Interlocked.Increment(ref aCalls) < 3 ? throw new IOException("a") : x).Retry(RetryMode.PerTask, attempts: 3, delay: TimeSpan.Zero))
            .Stage("B", s => s.Task("b", (int x) => x + 1000).SkipIf((int _) => true))
            .Stage("C", s => s.Task("c", (int x) => Interlocked.Increment(ref cCalls) < 2 ? throw new IOException("c") : x).Retry(RetryMode.PerStage, attempts: 2, delay: TimeSpan.Zero))
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync([5], ct);

        Assert.Multiple(() =>
        {
            Assert.That(results[0].Status, Is.EqualTo(ItemStatus.Skipped));
            Assert.That(results[0].Value, Is.EqualTo(5));
            Assert.That(results[0].Attempts, Is.EqualTo(3));
            Assert.That(results[0].Id, Is.EqualTo(0L));
        });
    }

    // ---- ticket: lazily boxed default id --------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task TicketId_ManyThreadsAskAtOnce_AllGetTheSameBox(CancellationToken ct)
    {
        const int threads = 8;
        for (int round = 0; round < 200; round++)
        {
            var ticket = new ItemTicket(id: null, sequence: round, priority: 0, injected: false);
            using var barrier = new Barrier(threads);
            Task<object>[] readers = Enumerable.Range(0, threads)
                .Select(_ => Task.Factory.StartNew(
                    () =>
                    {
                        barrier.SignalAndWait(ct);
                        return ticket.Id;
                    },
                    ct,
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default))
                .ToArray();

            object[] ids = await Task.WhenAll(readers);

            Assert.That(ids, Is.All.SameAs(ids[0]));
            Assert.That(ids[0], Is.EqualTo((long)round));
        }
    }

    // ---- tracker: ids as recorded ----------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task GetHistory_TrackerSharedByPipelinesWithIntAndLongIds_EqualsTheEventsSubscribersGot(CancellationToken ct)
    {
        // One tracker may serve several pipelines, and 0 and 0L are the same item for it. The queries used to return
        // the recorded events themselves; now they rebuild them with the id the item was first stored under.
        await using var tracker = new StatusTracker();
        var delivered = new List<StatusEvent>();
        using IDisposable subscription = tracker.Subscribe(e =>
        {
            lock (delivered)
            {
                delivered.Add(e);
            }

            return Task.CompletedTask;
        });

        Pipeline<int, int> intIds = Pipeline.Create<int>().Stage("S", (int x) => x).WithTracker(tracker).WithIdSelector(x => x).Build();
        Pipeline<int, int> defaultIds = Pipeline.Create<int>().Stage("S", (int x) => x).WithTracker(tracker).Build();
        await intIds.RunAsync([0], ct);
        await defaultIds.RunAsync([0], ct);
        await tracker.FlushAsync(ct);

        StatusEvent[] expected;
        lock (delivered)
        {
            expected = [.. delivered];
        }

        Assert.Multiple(() =>
        {
            Assert.That(expected, Has.Length.EqualTo(6));
            Assert.That(expected[^1].ItemId, Is.TypeOf<long>());
            Assert.That(tracker.GetStatus(0L)?.ItemId, Is.TypeOf<long>(), "the latest event was recorded with the id 0L");
            Assert.That(tracker.GetHistory(0L), Is.EqualTo(expected));
            Assert.That(tracker.GetStatus(0L), Is.EqualTo(expected[^1]));
            Assert.That(tracker.GetByStatus(ItemStatus.Completed), Is.EqualTo(new[] { expected[^1] }));
        });
    }

    // ---- tracker: history ring ---------------------------------------------------------------------------------------

    [TestCase(2, 7)]
    [TestCase(4, 4)]
    [TestCase(4, 5)]
    [TestCase(8, 9)]
    [TestCase(6, 14)]
    [TestCase(3, 1)]
    [CancelAfter(10_000)]
    public async Task GetHistory_CapacityAtGrowthBoundaries_KeepsTheNewestInOrderAndCountsEachItemOnce(int cap, int count, CancellationToken ct)
    {
        await using var tracker = new StatusTracker(new StatusTrackerOptions { MaxHistoryPerItem = cap });
        StatusEvent[] events = Enumerable.Range(0, count).Select(i => Event("job", (ItemStatus)(i % 4), i)).ToArray();
        foreach (StatusEvent e in events)
        {
            await tracker.RecordAsync(e, ct);
        }

        Assert.Multiple(() =>
        {
            Assert.That(tracker.GetHistory("job"), Is.EqualTo(events[Math.Max(0, count - cap)..]));
            Assert.That(tracker.GetStatus("job"), Is.EqualTo(events[^1]));
            Assert.That(tracker.GetStats().Values.Sum(), Is.EqualTo(1));
            Assert.That(tracker.GetStats()[events[^1].Status], Is.EqualTo(1));
        });
    }

    // ---- never-throwing logger -------------------------------------------------------------------------------------

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_RawLoggerFactoryWhoseLoggersThrowEvenFromIsEnabled_OutcomesAndEventsUnchanged(CancellationToken ct)
    {
        // Not Microsoft.Extensions.Logging's LoggerFactory (which wraps provider failures): a factory whose loggers
        // throw from IsEnabled, Log and BeginScope, used by the pipeline, the tracker and a failing subscriber.
        var factory = new ThrowingLoggerFactory();
        await using var tracker = new StatusTracker(new StatusTrackerOptions(), factory);
        int delivered = 0;
        using IDisposable counting = tracker.Subscribe((StatusEvent _) =>
        {
            Interlocked.Increment(ref delivered);
            return Task.CompletedTask;
        });
        using IDisposable throwing = tracker.Subscribe((StatusEvent _) => throw new InvalidOperationException("subscriber"));
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("S", s => s.Task("t", (int x) => x % 3 == 0 ? throw new FormatException($"bad {x}") : x)
                .Retry(RetryMode.PerStage, attempts: 2, delay: TimeSpan.Zero)
                .OnFailure((_, _) => throw new InvalidOperationException("callback")))
            .WithTracker(tracker)
            .WithLogging(factory)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 6), ct);
        await tracker.FlushAsync(ct);

        Assert.Multiple(() =>
        {
            Assert.That(results.Select(r => r.Status), Is.EqualTo(new[]
            {
                ItemStatus.Failed, ItemStatus.Completed, ItemStatus.Completed, ItemStatus.Failed, ItemStatus.Completed, ItemStatus.Completed,
            }));
            Assert.That(results.Where(r => !r.IsSuccess).Select(r => r.Attempts), Is.All.EqualTo(2));

            // Queued, InProgress, Completed for the four good items; Queued, InProgress, Retrying, Queued, InProgress, Failed for the two bad ones.
            Assert.That(Volatile.Read(ref delivered), Is.EqualTo((4 * 3) + (2 * 6)));
            Assert.That(tracker.GetErrorSummary().TotalFailed, Is.EqualTo(2));
            Assert.That(factory.Calls, Is.GreaterThan(0));
        });
    }

    private static StatusEvent Event(object id, ItemStatus status, int second) =>
        new()
        {
            ItemId = id,
            Stage = "Fetch",
            Status = status,
            Timestamp = Start.AddSeconds(second),
            Metadata = new Dictionary<string, object?>(),
        };

    /// <summary>A logger factory whose loggers fail on every call, including IsEnabled.</summary>
    private sealed class ThrowingLoggerFactory : ILoggerFactory
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ILogger CreateLogger(string categoryName) => new ThrowingLogger(this);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class ThrowingLogger(ThrowingLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => throw Fail();

            public bool IsEnabled(LogLevel logLevel) => throw Fail();

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                throw Fail();

            private IOException Fail()
            {
                Interlocked.Increment(ref owner._calls);
                return new IOException("log sink unavailable");
            }
        }
    }
}
