using System.Collections.Concurrent;
using Moq;

namespace AntFlow.Dataflow.Tests.Blocks;

/// <summary>
/// The stage queues' mode (internal constructor, offerOnConsumingThread: true): a target coming back for a postponed
/// offer gets the next offer on its own thread. The first tests pin down when that inline offer loop runs, using a
/// <see cref="ManualTaskScheduler"/> so that anything not run inline stays queued; the others use the pipeline's
/// shape (a bounded TransformBlock behind the buffer) under load.
/// </summary>
[TestFixture]
public sealed class PriorityBufferBlockConsumingThreadOfferTests
{
    private static readonly DataflowLinkOptions Propagate = new() { PropagateCompletion = true };

    private static PriorityBufferBlock<Job> CreateSut(DataflowBlockOptions? options = null, bool offerOnConsumingThread = true) =>
        new(job => job.Priority, options ?? new DataflowBlockOptions(), offerOnConsumingThread);

    private static ISourceBlock<Job> AsSource(PriorityBufferBlock<Job> block) => block;

    /// <summary>A target that answers every offer with <paramref name="onOffer"/>, called with the offer and its source.</summary>
    private static Mock<ITargetBlock<Job>> CreateTarget(Func<DataflowMessageHeader, Job, ISourceBlock<Job>, DataflowMessageStatus> onOffer)
    {
        var target = new Mock<ITargetBlock<Job>>();
        target
            .Setup(t => t.OfferMessage(It.IsAny<DataflowMessageHeader>(), It.IsAny<Job>(), It.IsAny<ISourceBlock<Job>?>(), It.IsAny<bool>()))
            .Returns<DataflowMessageHeader, Job, ISourceBlock<Job>?, bool>((header, value, source, _) => onOffer(header, value, source!));
        return target;
    }

    private static ExecutionDataflowBlockOptions StageWorkerOptions(int workers) => new()
    {
        MaxDegreeOfParallelism = workers,
        BoundedCapacity = workers,
        EnsureOrdered = false,
        SingleProducerConstrained = true,
    };

    // ------------------------------------------------------------------ when the inline loop runs

    [TestCase(true)]
    [TestCase(false)]
    public void ConsumeMessage_PostponedOfferTakenOffTheOfferThread_OffersTheNextItemInlineOnlyWhenEnabled(bool enabled)
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler }, enabled);
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(0, 1));
        block.Post(new Job(1, 2));
        scheduler.RunAll();
        DataflowMessageHeader header = probe.LastOffer.Header;

        Job consumed = AsSource(block).ConsumeMessage(header, probe, out bool messageConsumed);

        Assert.That(messageConsumed, Is.True);
        Assert.That(consumed, Is.EqualTo(new Job(0, 1)));
        if (enabled)
        {
            Assert.That(probe.LastOffer.Value, Is.EqualTo(new Job(1, 2)), "offered before ConsumeMessage returned");
            Assert.That(scheduler.Pending, Is.Zero, "no task was needed");
        }
        else
        {
            Assert.That(probe.Offers, Has.Count.EqualTo(1));
            Assert.That(scheduler.Pending, Is.EqualTo(1));
            scheduler.RunAll();
            Assert.That(probe.LastOffer.Value, Is.EqualTo(new Job(1, 2)));
        }
    }

    [Test]
    public void ConsumeMessage_MoreUrgentItemArrivesAtEveryOffer_ReturnsAfterAFewOffersAndLeavesTheRestToATask()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        bool arriving = false;
        int offers = 0;
        int nextPriority = 99;
        DataflowMessageHeader lastHeader = default;
        Mock<ITargetBlock<Job>> target = CreateTarget((header, _, _) =>
        {
            offers++;
            lastHeader = header;
            if (arriving && nextPriority > 0)
            {
                // Each offer makes a more urgent item arrive, so the best item changes during every offer.
                block.Post(new Job(nextPriority, 1000 + nextPriority));
                nextPriority--;
            }

            return DataflowMessageStatus.Postponed;
        });
        block.LinkTo(target.Object, new DataflowLinkOptions());
        block.Post(new Job(100, 1));
        block.Post(new Job(100, 2));
        scheduler.RunAll();
        offers = 0;
        arriving = true;

        Job consumed = AsSource(block).ConsumeMessage(lastHeader, target.Object, out bool messageConsumed);

        Assert.That(messageConsumed, Is.True);
        Assert.That(consumed, Is.EqualTo(new Job(100, 1)));
        Assert.That(offers, Is.InRange(1, 10), "the consumer's thread made a few offers only");
        Assert.That(scheduler.Pending, Is.EqualTo(1), "the rest continues from a task");
        arriving = false;
        scheduler.RunAll();
        Assert.That(block.Count, Is.EqualTo(1 + (99 - nextPriority)), "nothing was lost");
    }

    [Test]
    public void ConsumeMessage_StaleHeader_RefusesWithoutOfferingInline()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(5, 1));
        scheduler.RunAll();
        DataflowMessageHeader stale = probe.LastOffer.Header;
        block.Post(new Job(0, 2));

        AsSource(block).ConsumeMessage(stale, probe, out bool messageConsumed);

        Assert.That(messageConsumed, Is.False);
        Assert.That(probe.Offers, Has.Count.EqualTo(1), "a refused consumption offers nothing on the caller's thread");
        Assert.That(scheduler.Pending, Is.EqualTo(1), "the loop started by the urgent arrival is still the one to offer it");
        scheduler.RunAll();
        Assert.That(probe.LastOffer.Value, Is.EqualTo(new Job(0, 2)));
    }

    [Test]
    public void ConsumeMessage_WhileAnOfferLoopIsScheduled_LeavesTheNextOfferToThatLoop()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(0, 1));
        block.Post(new Job(1, 2));
        scheduler.RunAll();
        DataflowMessageHeader header = probe.LastOffer.Header;

        // A new link schedules an offer loop; the consumption must not start a second one on its own thread.
        var late = new ProbeTarget<Job>();
        block.LinkTo(late, new DataflowLinkOptions());
        Assert.That(scheduler.Pending, Is.EqualTo(1));
        AsSource(block).ConsumeMessage(header, probe, out bool messageConsumed);

        Assert.That(messageConsumed, Is.True);
        Assert.That(probe.Offers, Has.Count.EqualTo(1));
        Assert.That(late.Offers, Is.Empty);
        Assert.That(scheduler.RunAll(), Is.EqualTo(1));
        Assert.That(probe.LastOffer.Value, Is.EqualTo(new Job(1, 2)));
        Assert.That(late.Offers.Select(o => o.Value), Is.EqualTo(new[] { new Job(1, 2) }), "offered once, by the scheduled loop");
    }

    [Test]
    public void ConsumeMessage_ReservedOffer_OffersTheNextItemInlineOnceConsumed()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(0, 1));
        block.Post(new Job(1, 2));
        scheduler.RunAll();
        DataflowMessageHeader header = probe.LastOffer.Header;
        Assert.That(AsSource(block).ReserveMessage(header, probe), Is.True);
        block.Post(new Job(0, 3));
        Assert.That(probe.Offers, Has.Count.EqualTo(1), "nothing is offered while a reservation is held");

        Job consumed = AsSource(block).ConsumeMessage(header, probe, out bool messageConsumed);

        Assert.That(messageConsumed, Is.True);
        Assert.That(consumed, Is.EqualTo(new Job(0, 1)));
        Assert.That(probe.LastOffer.Value, Is.EqualTo(new Job(0, 3)), "the best item now, arrived during the reservation");
        Assert.That(scheduler.Pending, Is.Zero);
    }

    [Test]
    public void ReleaseReservation_ReservedOffer_OffersItAgainFromATaskNotFromTheCaller()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(0, 1));
        scheduler.RunAll();
        DataflowMessageHeader header = probe.LastOffer.Header;
        Assert.That(AsSource(block).ReserveMessage(header, probe), Is.True);

        AsSource(block).ReleaseReservation(header, probe);

        Assert.That(probe.Offers, Has.Count.EqualTo(1));
        Assert.That(scheduler.Pending, Is.EqualTo(1));
        scheduler.RunAll();
        Assert.That(probe.LastOffer, Is.EqualTo((header, new Job(0, 1))));
    }

    [TestCase(1, 1)]
    [TestCase(DataflowBlockOptions.Unbounded, 3)]
    public void ConsumeMessage_AnotherTargetTakesTheRest_InlineDeliveriesAreCappedByMaxMessagesPerTask(int maxMessagesPerTask, int deliveredInline)
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler, MaxMessagesPerTask = maxMessagesPerTask });
        var probe = new ProbeTarget<Job>();
        bool open = false;
        var taken = new List<(Job Job, int Thread)>();
        Mock<ITargetBlock<Job>> taker = null!;
        taker = CreateTarget((header, _, source) =>
        {
            if (!open)
            {
                return DataflowMessageStatus.Declined;
            }

            // Consumes during the offer, like the runtime's blocks: a nested ConsumeMessage on the inline loop's thread.
            Job job = source.ConsumeMessage(header, taker.Object, out bool consumed);
            if (!consumed)
            {
                return DataflowMessageStatus.NotAvailable;
            }

            taken.Add((job, Environment.CurrentManagedThreadId));
            return DataflowMessageStatus.Accepted;
        });
        block.LinkTo(probe, new DataflowLinkOptions());
        block.LinkTo(taker.Object, new DataflowLinkOptions());
        for (int i = 1; i <= 4; i++)
        {
            block.Post(new Job(i, i));
        }

        scheduler.RunAll();
        open = true;
        DataflowMessageHeader header = probe.LastOffer.Header;

        Job consumed = AsSource(block).ConsumeMessage(header, probe, out bool messageConsumed);

        Assert.That(messageConsumed, Is.True);
        Assert.That(consumed.Id, Is.EqualTo(1));
        Assert.That(taken, Has.Count.EqualTo(deliveredInline));
        Assert.That(taken.Select(t => t.Thread), Is.All.EqualTo(Environment.CurrentManagedThreadId), "delivered on the consuming thread");
        scheduler.RunAll();
        Assert.That(taken.Select(t => t.Job.Id), Is.EqualTo(new[] { 2, 3, 4 }), "the rest, once each, in priority order");
        Assert.That(block.Count, Is.Zero);
    }

    // ------------------------------------------------------------------ fault, cancellation and completion during the inline loop

    [Test]
    [CancelAfter(10_000)]
    public async Task ConsumeMessage_TargetThrowsDuringInlineOffer_FaultsTheBlockAndNothingEscapesToTheConsumer(CancellationToken cancellationToken)
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        bool armed = false;
        int thrownOnThread = 0;
        Mock<ITargetBlock<Job>> thrower = CreateTarget((_, _, _) =>
        {
            if (!armed)
            {
                return DataflowMessageStatus.Declined;
            }

            thrownOnThread = Environment.CurrentManagedThreadId;
            throw new InvalidOperationException("offer failed");
        });
        block.LinkTo(probe, Propagate);
        block.LinkTo(thrower.Object, new DataflowLinkOptions());
        block.Post(new Job(0, 1));
        block.Post(new Job(1, 2));
        block.Post(new Job(2, 3));
        scheduler.RunAll();
        armed = true;
        DataflowMessageHeader header = probe.LastOffer.Header;

        Job consumed = default;
        bool messageConsumed = false;
        Assert.That(() => consumed = AsSource(block).ConsumeMessage(header, probe, out messageConsumed), Throws.Nothing);

        Assert.That(messageConsumed, Is.True);
        Assert.That(consumed, Is.EqualTo(new Job(0, 1)), "the consumer keeps the item it took");
        Assert.That(thrownOnThread, Is.EqualTo(Environment.CurrentManagedThreadId), "the throwing offer was made inline");
        await Assert.ThatAsync(() => block.Completion.WaitAsync(cancellationToken), Throws.InvalidOperationException.With.Message.EqualTo("offer failed"));
        await Assert.ThatAsync(() => probe.Completion.WaitAsync(cancellationToken), Throws.Exception, "the fault is propagated");
        Assert.That(block.Count, Is.Zero, "a faulted block drops what it buffered");
        AsSource(block).ConsumeMessage(probe.LastOffer.Header, probe, out bool laterConsumed);
        Assert.That(laterConsumed, Is.False);
        Assert.That(scheduler.Pending, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task ConsumeMessage_TokenCanceledDuringInlineOffer_CompletesCanceledAndReleasesWaitingProducers(CancellationToken cancellationToken)
    {
        var scheduler = new ManualTaskScheduler();
        using var blockCancellation = new CancellationTokenSource();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler, BoundedCapacity = 3, CancellationToken = blockCancellation.Token });
        var probe = new ProbeTarget<Job>();
        Mock<ITargetBlock<Job>> canceller = CreateTarget((_, value, _) =>
        {
            if (value.Id == 2)
            {
                // The options' token, canceled on the inline loop's thread while it is offering.
                blockCancellation.Cancel();
            }

            return DataflowMessageStatus.Declined;
        });
        block.LinkTo(probe, Propagate);
        block.LinkTo(canceller.Object, new DataflowLinkOptions());
        block.Post(new Job(0, 1));
        block.Post(new Job(1, 2));
        block.Post(new Job(2, 3));
        Task<bool> waiting = block.SendAsync(new Job(0, 4), cancellationToken);
        scheduler.RunAll();
        Assert.That(waiting.IsCompleted, Is.False);
        DataflowMessageHeader header = probe.LastOffer.Header;

        Job consumed = AsSource(block).ConsumeMessage(header, probe, out bool messageConsumed);

        Assert.That(messageConsumed, Is.True);
        Assert.That(consumed, Is.EqualTo(new Job(0, 1)));
        Assert.That(blockCancellation.IsCancellationRequested, Is.True, "canceled by the inline offer of item 2");
        Assert.That(block.Count, Is.Zero, "a canceled block drops what it buffered");

        // The consumption also freed room for the waiting producer: that input loop is queued on the scheduler and
        // must still run (and find the block declining) before the block can complete.
        scheduler.RunAll();
        await Assert.ThatAsync(() => block.Completion.WaitAsync(cancellationToken), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(block.Completion.IsCanceled, Is.True);
        Assert.That(await waiting.WaitAsync(cancellationToken), Is.False);
        await probe.Completion.WaitAsync(cancellationToken);
        Assert.That(block.Post(new Job(0, 5)), Is.False);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task ConsumeMessage_CompleteCalledDuringInlineOffer_KeepsTheRestAndCompletesOnceItIsTaken(CancellationToken cancellationToken)
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        Mock<ITargetBlock<Job>> completer = CreateTarget((_, value, _) =>
        {
            if (value.Id == 2)
            {
                block.Complete();
            }

            return DataflowMessageStatus.Declined;
        });
        block.LinkTo(probe, Propagate);
        block.LinkTo(completer.Object, new DataflowLinkOptions());
        block.Post(new Job(0, 1));
        block.Post(new Job(1, 2));
        block.Post(new Job(2, 3));
        scheduler.RunAll();

        var consumed = new List<Job>();
        for (int i = 0; i < 3; i++)
        {
            consumed.Add(AsSource(block).ConsumeMessage(probe.LastOffer.Header, probe, out bool messageConsumed));
            Assert.That(messageConsumed, Is.True);
            if (i < 2)
            {
                Assert.That(block.Completion.IsCompleted, Is.False, "completion waits for the buffered items");
            }
        }

        await block.Completion.WaitAsync(cancellationToken);
        await probe.Completion.WaitAsync(cancellationToken);
        Assert.That(consumed.Select(j => j.Id), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(scheduler.Pending, Is.Zero, "every next offer was made inline");
    }

    // ------------------------------------------------------------------ the pipeline's shape: a bounded TransformBlock behind the buffer

    [TestCase(1)]
    [TestCase(4)]
    [CancelAfter(20_000)]
    public async Task LinkTo_BusyTransformBlock_FreedWorkersTakeQueuedItemsInExactPriorityOrder(int workers, CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { BoundedCapacity = 100 });
        var started = new BufferBlock<Job>();
        var gates = new ConcurrentDictionary<int, TaskCompletionSource>();
        TaskCompletionSource Gate(int id) => gates.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var transform = new TransformBlock<Job, Job>(
            async job =>
            {
                started.Post(job);
                await Gate(job.Id).Task.WaitAsync(cancellationToken);
                return job;
            },
            StageWorkerOptions(workers));
        var sink = new ActionBlock<Job>(_ => { });
        block.LinkTo(transform, Propagate);
        transform.LinkTo(sink, Propagate);

        // Every worker busy first, then a mixed backlog queued behind them.
        for (int i = 0; i < workers; i++)
        {
            Assert.That(block.Post(new Job(50, i)), Is.True);
        }

        var running = new Queue<int>();
        for (int i = 0; i < workers; i++)
        {
            running.Enqueue((await started.ReceiveAsync(cancellationToken)).Id);
        }

        Job[] backlog = Enumerable.Range(100, 40).Select(id => new Job((id * 7) % 5, id)).ToArray();
        foreach (Job job in backlog)
        {
            Assert.That(block.Post(job), Is.True);
        }

        // Free one worker at a time: each time exactly one slot opens, so the item taken is the block's choice alone.
        const int BeforeUrgent = 10;
        Job[] urgent = [new(-1, 200), new(2, 201), new(0, 202)];
        var order = new List<Job>();
        for (int step = 0; step < backlog.Length + urgent.Length; step++)
        {
            if (step == BeforeUrgent)
            {
                foreach (Job job in urgent)
                {
                    Assert.That(block.Post(job), Is.True);
                }
            }

            Gate(running.Dequeue()).SetResult();
            Job next = await started.ReceiveAsync(cancellationToken);
            order.Add(next);
            running.Enqueue(next.Id);
        }

        foreach (int id in running)
        {
            Gate(id).SetResult();
        }

        block.Complete();
        await sink.Completion.WaitAsync(cancellationToken);

        static IEnumerable<Job> ByPriority(IEnumerable<Job> jobs) => jobs.OrderBy(j => j.Priority).ThenBy(j => j.Id);
        Job[] first = ByPriority(backlog).Take(BeforeUrgent).ToArray();
        Job[] expected = [.. first, .. ByPriority(backlog.Except(first).Concat(urgent))];
        Assert.That(order, Is.EqualTo(expected));
        Assert.That(block.Completion.IsCompletedSuccessfully, Is.True);
        Assert.That(transform.Completion.IsCompletedSuccessfully, Is.True);
    }

    [TestCase(1)]
    [TestCase(4)]
    [CancelAfter(60_000)]
    public async Task LinkTo_TransformBlockAndConcurrentProducers_EveryItemDeliveredExactlyOnceAndCompletionPropagates(int workers, CancellationToken cancellationToken)
    {
        const int Producers = 4;
        const int ItemsPerProducer = 25_000;
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { BoundedCapacity = 64 });
        int[] seen = new int[Producers * ItemsPerProducer];
        var order = new ConcurrentQueue<Job>();
        var transform = new TransformBlock<Job, Job>(
            async job =>
            {
                Interlocked.Increment(ref seen[job.Id]);
                order.Enqueue(job);
                if (job.Id % 32 == 0)
                {
                    // Some items finish asynchronously, so slots free up from other threads too.
                    await Task.Yield();
                }

                return job;
            },
            StageWorkerOptions(workers));
        int finished = 0;
        var sink = new ActionBlock<Job>(_ => finished++);
        block.LinkTo(transform, Propagate);
        transform.LinkTo(sink, Propagate);

        Task[] producers = Enumerable.Range(0, Producers).Select(producer => Task.Run(
            async () =>
            {
                // Post (declined when full, then sent), plain SendAsync, and a cancelable SendAsync (consumeToAccept).
                using var sendCancellation = new CancellationTokenSource();
                var random = new Random(producer);
                for (int i = 0; i < ItemsPerProducer; i++)
                {
                    var job = new Job(random.Next(10), (producer * ItemsPerProducer) + i);
                    bool accepted = (i % 3) switch
                    {
                        0 => block.Post(job) || await block.SendAsync(job),
                        1 => await block.SendAsync(job),
                        _ => await block.SendAsync(job, sendCancellation.Token),
                    };
                    Assert.That(accepted, Is.True);
                }
            },
            cancellationToken)).ToArray();

        await Task.WhenAll(producers).WaitAsync(cancellationToken);
        block.Complete();
        await sink.Completion.WaitAsync(cancellationToken);

        Assert.That(seen, Is.All.EqualTo(1), "every item exactly once");
        Assert.That(finished, Is.EqualTo(seen.Length));
        Assert.That(block.Count, Is.Zero);
        Assert.That(block.Completion.IsCompletedSuccessfully, Is.True);
        Assert.That(transform.Completion.IsCompletedSuccessfully, Is.True);
        if (workers == 1)
        {
            // One worker takes items in the block's order: FIFO among equal priorities from one producer.
            foreach (IGrouping<(int Producer, int Priority), Job> sequence in order.GroupBy(job => (job.Id / ItemsPerProducer, job.Priority)))
            {
                Assert.That(sequence.Select(job => job.Id), Is.Ordered, $"producer {sequence.Key.Producer}, priority {sequence.Key.Priority}");
            }
        }
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_TransformBlockThenThrowingTarget_InlineOfferFaultsTheBlockAndTheConsumedItemIsStillProcessed(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        var started = new BufferBlock<Job>();
        var firstGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var transform = new TransformBlock<Job, Job>(
            async job =>
            {
                started.Post(job);

                // Item 1 holds the only slot until the block has faulted, so nothing behind it can be taken meanwhile.
                await (job.Id == 0 ? firstGate : secondGate).Task.WaitAsync(cancellationToken);
                return job;
            },
            StageWorkerOptions(1));
        transform.LinkTo(DataflowBlock.NullTarget<Job>());
        var declinedSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool armed = false;
        Mock<ITargetBlock<Job>> thrower = CreateTarget((_, value, _) =>
        {
            if (Volatile.Read(ref armed))
            {
                throw new InvalidOperationException("offer failed");
            }

            if (value.Id == 1)
            {
                declinedSecond.TrySetResult();
            }

            return DataflowMessageStatus.Declined;
        });
        block.LinkTo(transform, Propagate);
        block.LinkTo(thrower.Object, new DataflowLinkOptions());

        block.Post(new Job(0, 0));
        Assert.That((await started.ReceiveAsync(cancellationToken)).Id, Is.Zero);
        block.Post(new Job(1, 1));
        block.Post(new Job(2, 2));
        await declinedSecond.Task.WaitAsync(cancellationToken);
        Volatile.Write(ref armed, true);

        // The freed worker consumes item 1 (postponed by the full transform); the next offer, of item 2, throws.
        firstGate.SetResult();

        await Assert.ThatAsync(() => block.Completion.WaitAsync(cancellationToken), Throws.InvalidOperationException.With.Message.EqualTo("offer failed"));
        Assert.That((await started.ReceiveAsync(cancellationToken)).Id, Is.EqualTo(1), "the consumer got the item it consumed");
        secondGate.SetResult();
        await Assert.ThatAsync(() => transform.Completion.WaitAsync(cancellationToken), Throws.Exception, "the fault is propagated");
        Assert.That(started.TryReceiveAll(out _), Is.False, "the item behind it was dropped with the fault");
    }

    [TestCase(1)]
    [TestCase(4)]
    [CancelAfter(30_000)]
    public async Task CancellationToken_CanceledWhileTheTransformBlockPulls_CompletesCanceledWithoutDuplicatesAndReleasesProducers(int workers, CancellationToken cancellationToken)
    {
        const int Producers = 4;
        const int ItemsPerProducer = 5_000;
        using var blockCancellation = new CancellationTokenSource();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { BoundedCapacity = 32, CancellationToken = blockCancellation.Token });
        int[] seen = new int[Producers * ItemsPerProducer];
        int delivered = 0;
        var transform = new TransformBlock<Job, Job>(
            async job =>
            {
                Interlocked.Increment(ref seen[job.Id]);

                // A worker cancels mid-stream, while the others keep pulling (and offering inline).
                if (Interlocked.Increment(ref delivered) == seen.Length / 4)
                {
                    await blockCancellation.CancelAsync();
                }

                return job;
            },
            StageWorkerOptions(workers));
        block.LinkTo(transform, Propagate);
        transform.LinkTo(DataflowBlock.NullTarget<Job>());

        Task<int>[] producers = Enumerable.Range(0, Producers).Select(producer => Task.Run(
            async () =>
            {
                int accepted = 0;
                for (int i = 0; i < ItemsPerProducer; i++)
                {
                    if (await block.SendAsync(new Job(i % 5, (producer * ItemsPerProducer) + i)))
                    {
                        accepted++;
                    }
                }

                return accepted;
            },
            cancellationToken)).ToArray();

        int[] acceptedPerProducer = await Task.WhenAll(producers).WaitAsync(cancellationToken);
        await Assert.ThatAsync(() => block.Completion.WaitAsync(cancellationToken), Throws.InstanceOf<OperationCanceledException>());
        await transform.Completion.WaitAsync(cancellationToken);

        Assert.That(seen, Is.All.InRange(0, 1), "nothing delivered twice");
        Assert.That(seen.Sum(), Is.LessThanOrEqualTo(acceptedPerProducer.Sum()), "only accepted items are delivered");
        Assert.That(acceptedPerProducer.Sum(), Is.LessThan(seen.Length), "offers after the cancellation are declined");
        Assert.That(block.Count, Is.Zero);
    }
}
