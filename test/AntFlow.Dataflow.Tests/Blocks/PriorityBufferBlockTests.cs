using Moq;

namespace AntFlow.Dataflow.Tests.Blocks;

[TestFixture]
public sealed class PriorityBufferBlockTests
{
    private static PriorityBufferBlock<Job> CreateSut(DataflowBlockOptions? options = null) =>
        new(job => job.Priority, options ?? new DataflowBlockOptions());

    private static ISourceBlock<Job> AsSource(PriorityBufferBlock<Job> block) => block;

    private static ITargetBlock<Job> AsTarget(PriorityBufferBlock<Job> block) => block;

    // ------------------------------------------------------------------ construction

    [Test]
    public void Ctor_NullPrioritySelector_ThrowsArgumentNullException()
    {
        Assert.That(() => new PriorityBufferBlock<Job>(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("prioritySelector"));
        Assert.That(() => new PriorityBufferBlock<Job>(null!, new DataflowBlockOptions()), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("prioritySelector"));
    }

    [Test]
    public void Ctor_NullOptions_ThrowsArgumentNullException()
    {
        Assert.That(() => new PriorityBufferBlock<Job>(job => job.Priority, null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("options"));
    }

    [Test]
    public void Ctor_OptionsChangedAfterConstruction_KeepsTheValuesItWasGiven()
    {
        var options = new DataflowBlockOptions { BoundedCapacity = 1 };
        PriorityBufferBlock<Job> block = CreateSut(options);

        options.BoundedCapacity = 10;

        Assert.That(block.Post(new Job(0, 1)), Is.True);
        Assert.That(block.Post(new Job(0, 2)), Is.False);
    }

    [Test]
    public void ToString_WithNameFormat_FormatsTypeNameAndId()
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { NameFormat = "{0}#{1}" });

        Assert.That(block.ToString(), Is.EqualTo($"PriorityBufferBlock`1#{block.Completion.Id}"));
    }

    [Test]
    public void ToString_InvalidNameFormat_ReturnsTheFormatErrorInsteadOfThrowing()
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { NameFormat = "{7}" });

        Assert.That(block.ToString(), Is.Not.Empty);
    }

    // ------------------------------------------------------------------ ordering

    [Test]
    public void TryReceive_MixedPriorities_ReturnsLowestFirstAndFifoAmongEquals()
    {
        PriorityBufferBlock<Job> block = CreateSut();
        Job[] posted = [new(5, 1), new(1, 2), new(5, 3), new(0, 4), new(1, 5), new(int.MinValue, 6), new(int.MaxValue, 7)];
        foreach (Job job in posted)
        {
            Assert.That(block.Post(job), Is.True);
        }

        var received = new List<int>();
        while (block.TryReceive(out Job job))
        {
            received.Add(job.Id);
        }

        Assert.That(received, Is.EqualTo(new[] { 6, 4, 2, 5, 1, 3, 7 }));
    }

    [Test]
    public void TryReceiveAll_BufferedItems_ReturnsAllInPriorityOrderAndEmptiesTheBuffer()
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Post(new Job(3, 1));
        block.Post(new Job(1, 2));
        block.Post(new Job(3, 3));
        block.Post(new Job(2, 4));

        bool received = block.TryReceiveAll(out IList<Job>? items);

        Assert.That(received, Is.True);
        Assert.That(items!.Select(j => j.Id), Is.EqualTo(new[] { 2, 4, 1, 3 }));
        Assert.That(block.Count, Is.Zero);
    }

    [Test]
    public void TryReceiveAll_EmptyBuffer_ReturnsFalseAndNull()
    {
        PriorityBufferBlock<Job> block = CreateSut();

        Assert.That(block.TryReceiveAll(out IList<Job>? items), Is.False);
        Assert.That(items, Is.Null);
    }

    [Test]
    public void TryReceive_EmptyBuffer_ReturnsFalse()
    {
        PriorityBufferBlock<Job> block = CreateSut();

        Assert.That(block.TryReceive(out _), Is.False);
    }

    [Test]
    public void TryReceive_FilterRejectsBestItem_ReturnsFalseAndKeepsIt()
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Post(new Job(0, 1));
        block.Post(new Job(1, 2));

        // Only the best item is considered, as with BufferBlock's head.
        bool received = block.TryReceive(job => job.Id == 2, out _);

        Assert.That(received, Is.False);
        Assert.That(block.Count, Is.EqualTo(2));
    }

    [Test]
    public void TryReceive_FilterAcceptsBestItem_TakesIt()
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Post(new Job(1, 2));
        block.Post(new Job(0, 1));

        bool received = block.TryReceive(job => job.Id == 1, out Job item);

        Assert.That(received, Is.True);
        Assert.That(item, Is.EqualTo(new Job(0, 1)));
        Assert.That(block.Count, Is.EqualTo(1));
    }

    [Test]
    public void TryReceive_ExtensionMethod_TakesBestItem()
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Post(new Job(9, 1));
        block.Post(new Job(4, 2));

        Assert.That(DataflowBlock.TryReceive(block, out Job item), Is.True);
        Assert.That(item.Id, Is.EqualTo(2));
    }

    [Test]
    public void Count_AfterPostsAndReceives_IsTheNumberOfBufferedItems()
    {
        PriorityBufferBlock<Job> block = CreateSut();
        for (int i = 0; i < 5; i++)
        {
            block.Post(new Job(i % 2, i));
        }

        block.TryReceive(out _);

        Assert.That(block.Count, Is.EqualTo(4));
    }

    [Test]
    public void Post_PrioritySelectorThrows_PropagatesAndBuffersNothing()
    {
        var block = new PriorityBufferBlock<Job>(job => job.Id < 0 ? throw new InvalidOperationException("no priority") : job.Priority);

        Assert.That(() => block.Post(new Job(0, -1)), Throws.InvalidOperationException.With.Message.EqualTo("no priority"));
        Assert.That(block.Count, Is.Zero);
        Assert.That(block.Post(new Job(0, 1)), Is.True);
    }

    // ------------------------------------------------------------------ linking

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_ItemsBufferedBeforeLink_TargetReceivesThemInPriorityOrder(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        Job[] posted = Enumerable.Range(0, 200).Select(i => new Job((i * 7) % 5, i)).ToArray();
        foreach (Job job in posted)
        {
            block.Post(job);
        }

        var received = new List<Job>();
        var target = new ActionBlock<Job>(received.Add);
        block.LinkTo(target, new DataflowLinkOptions { PropagateCompletion = true });
        block.Complete();
        await target.Completion.WaitAsync(cancellationToken);

        Assert.That(received, Is.EqualTo(posted.OrderBy(j => j.Priority).ThenBy(j => j.Id)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_PropagateCompletion_CompletesTargetAfterTheBufferDrains(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        var received = new List<Job>();
        var target = new ActionBlock<Job>(received.Add);
        block.LinkTo(target, new DataflowLinkOptions { PropagateCompletion = true });

        block.Post(new Job(1, 1));
        block.Post(new Job(2, 2));
        block.Complete();
        await target.Completion.WaitAsync(cancellationToken);

        Assert.That(received, Has.Count.EqualTo(2));
        Assert.That(block.Completion.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_PropagateCompletionAfterFault_FaultsTargetWithTheException(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        var target = new BufferBlock<Job>();
        block.LinkTo(target, new DataflowLinkOptions { PropagateCompletion = true });

        ((IDataflowBlock)block).Fault(new InvalidOperationException("boom"));

        await Assert.ThatAsync(() => target.Completion.WaitAsync(cancellationToken), Throws.Exception);
        Assert.That(target.Completion.Exception!.Flatten().InnerExceptions, Has.One.InstanceOf<InvalidOperationException>().With.Message.EqualTo("boom"));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_MaxMessages_UnlinksAfterTheLimit(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        for (int i = 0; i < 5; i++)
        {
            block.Post(new Job(5 - i, i));
        }

        var target = new BufferBlock<Job>();
        block.LinkTo(target, new DataflowLinkOptions { MaxMessages = 2 });
        Job first = await target.ReceiveAsync(cancellationToken);
        Job second = await target.ReceiveAsync(cancellationToken);

        Assert.That(new[] { first.Id, second.Id }, Is.EqualTo(new[] { 4, 3 }));
        Assert.That(block.Count, Is.EqualTo(3));
        block.Post(new Job(0, 99));
        Assert.That(block.Count, Is.EqualTo(4));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_AppendFalse_NewLinkIsOfferedFirst(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        var appended = new BufferBlock<Job>();
        var prepended = new BufferBlock<Job>();
        block.LinkTo(appended, new DataflowLinkOptions());
        block.LinkTo(prepended, new DataflowLinkOptions { Append = false });

        block.Post(new Job(0, 1));
        Job received = await prepended.ReceiveAsync(cancellationToken);

        Assert.That(received.Id, Is.EqualTo(1));
        Assert.That(appended.Count, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_WithPredicates_RoutesEachItemToItsTargetInPriorityOrder(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        Job[] posted = Enumerable.Range(0, 40).Select(i => new Job((i * 3) % 7, i)).ToArray();
        foreach (Job job in posted)
        {
            block.Post(job);
        }

        var evens = new BufferBlock<Job>();
        var odds = new BufferBlock<Job>();
        block.LinkTo(evens, new DataflowLinkOptions(), job => job.Id % 2 == 0);
        block.LinkTo(odds, new DataflowLinkOptions(), job => job.Id % 2 == 1);
        block.Complete();
        await block.Completion.WaitAsync(cancellationToken);

        evens.TryReceiveAll(out IList<Job>? evenItems);
        odds.TryReceiveAll(out IList<Job>? oddItems);
        IOrderedEnumerable<Job> expected = posted.OrderBy(j => j.Priority).ThenBy(j => j.Id);
        Assert.That(evenItems, Is.EqualTo(expected.Where(j => j.Id % 2 == 0)));
        Assert.That(oddItems, Is.EqualTo(expected.Where(j => j.Id % 2 == 1)));
    }

    [Test]
    public void LinkTo_DisposedLink_ReceivesNoFurtherOffers()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job> { Answer = DataflowMessageStatus.Declined };
        IDisposable link = block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(1, 1));
        scheduler.RunAll();
        Assert.That(probe.Offers, Has.Count.EqualTo(1));

        link.Dispose();
        block.Post(new Job(0, 2));
        scheduler.RunAll();

        Assert.That(probe.Offers, Has.Count.EqualTo(1));
    }

    [Test]
    public void LinkTo_NullArguments_ThrowArgumentNullException()
    {
        PriorityBufferBlock<Job> block = CreateSut();

        Assert.That(() => block.LinkTo(null!, new DataflowLinkOptions()), Throws.ArgumentNullException);
        Assert.That(() => block.LinkTo(new BufferBlock<Job>(), null!), Throws.ArgumentNullException);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_AfterCompletion_PropagatesCompletionToTheNewTarget(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Complete();
        await block.Completion.WaitAsync(cancellationToken);
        var target = new BufferBlock<Job>();

        block.LinkTo(target, new DataflowLinkOptions { PropagateCompletion = true });

        await target.Completion.WaitAsync(cancellationToken);
        Assert.That(target.Completion.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_TargetDecliningPermanently_IsUnlinkedAndTheNextTargetServed(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        var completed = new BufferBlock<Job>();
        completed.Complete();
        var open = new BufferBlock<Job>();
        block.LinkTo(completed, new DataflowLinkOptions());
        block.LinkTo(open, new DataflowLinkOptions());

        block.Post(new Job(0, 1));
        block.Post(new Job(0, 2));

        Assert.That((await open.ReceiveAsync(cancellationToken)).Id, Is.EqualTo(1));
        Assert.That((await open.ReceiveAsync(cancellationToken)).Id, Is.EqualTo(2));
    }

    [Test]
    public void LinkTo_CustomTaskScheduler_OffersOnlyFromThatScheduler()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());

        block.Post(new Job(0, 1));
        Assert.That(probe.Offers, Is.Empty);
        scheduler.RunAll();

        Assert.That(probe.Offers.Select(o => o.Value), Is.EqualTo(new[] { new Job(0, 1) }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_MaxMessagesPerTaskOne_StillDeliversEverythingInOrder(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { MaxMessagesPerTask = 1, BoundedCapacity = 8 });
        var received = new List<Job>();
        var target = new ActionBlock<Job>(received.Add);
        block.LinkTo(target, new DataflowLinkOptions { PropagateCompletion = true });

        for (int i = 0; i < 100; i++)
        {
            Assert.That(await block.SendAsync(new Job(0, i), cancellationToken), Is.True);
        }

        block.Complete();
        await target.Completion.WaitAsync(cancellationToken);

        Assert.That(received.Select(j => j.Id), Is.EqualTo(Enumerable.Range(0, 100)));
    }

    // ------------------------------------------------------------------ receiving helpers

    [Test]
    [CancelAfter(10_000)]
    public async Task ReceiveAsync_ItemPostedLater_ReturnsIt(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        Task<Job> receive = block.ReceiveAsync(cancellationToken);
        Assert.That(receive.IsCompleted, Is.False);

        block.Post(new Job(3, 1));

        Assert.That(await receive, Is.EqualTo(new Job(3, 1)));
        Assert.That(block.Count, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task ReceiveAsync_CompletedAndEmpty_ThrowsInvalidOperationException(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Complete();

        await Assert.ThatAsync(() => block.ReceiveAsync(cancellationToken), Throws.InvalidOperationException);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task OutputAvailableAsync_ItemPosted_ReturnsTrueWithoutTakingIt(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        Task<bool> available = block.OutputAvailableAsync(cancellationToken);

        block.Post(new Job(0, 1));

        Assert.That(await available, Is.True);
        Assert.That(block.Count, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task OutputAvailableAsync_CompletedAndEmpty_ReturnsFalse(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        Task<bool> available = block.OutputAvailableAsync(cancellationToken);

        block.Complete();

        Assert.That(await available, Is.False);
    }

    // ------------------------------------------------------------------ bounded capacity and offers

    [Test]
    public void Post_BoundedAndFull_ReturnsFalse()
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { BoundedCapacity = 2 });

        Assert.That(block.Post(new Job(5, 1)), Is.True);
        Assert.That(block.Post(new Job(5, 2)), Is.True);
        Assert.That(block.Post(new Job(0, 3)), Is.False);
        Assert.That(block.Count, Is.EqualTo(2));
    }

    [TestCase(false)]
    [TestCase(true)]
    [CancelAfter(10_000)]
    public async Task SendAsync_BoundedAndFull_IsPostponedUntilThereIsRoom(bool cancelableSend, CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { BoundedCapacity = 1 });
        block.Post(new Job(1, 1));

        // A cancelable SendAsync offers with consumeToAccept, the other one without.
        using var sendCancellation = new CancellationTokenSource();
        Task<bool> send = cancelableSend
            ? block.SendAsync(new Job(2, 2), sendCancellation.Token)
            : block.SendAsync(new Job(2, 2));
        Assert.That(send.IsCompleted, Is.False);

        Assert.That(block.TryReceive(out Job first), Is.True);

        Assert.That(first.Id, Is.EqualTo(1));
        Assert.That(await send.WaitAsync(cancellationToken), Is.True);
        Assert.That((await block.ReceiveAsync(cancellationToken)).Id, Is.EqualTo(2));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task SendAsync_SeveralPostponed_MostUrgentIsAdmittedFirst(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { BoundedCapacity = 1 });
        block.Post(new Job(9, 0));
        Job[] waiting = [new(5, 1), new(1, 2), new(5, 3), new(1, 4)];
        Task<bool>[] sends = waiting.Select(job => block.SendAsync(job)).ToArray();
        Assert.That(sends.Any(s => s.IsCompleted), Is.False);

        var received = new List<int>();
        for (int i = 0; i < 5; i++)
        {
            received.Add((await block.ReceiveAsync(cancellationToken)).Id);
        }

        Assert.That(received, Is.EqualTo(new[] { 0, 2, 4, 1, 3 }));
        Assert.That(await Task.WhenAll(sends).WaitAsync(cancellationToken), Is.All.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Complete_WithPostponedSendAsync_SendCompletesWithFalse(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { BoundedCapacity = 1 });
        block.Post(new Job(0, 1));
        Task<bool> send = block.SendAsync(new Job(0, 2));

        block.Complete();

        Assert.That(await send.WaitAsync(cancellationToken), Is.False);
        Assert.That(block.TryReceive(out Job item), Is.True);
        Assert.That(item.Id, Is.EqualTo(1));
        await block.Completion.WaitAsync(cancellationToken);
    }

    [Test]
    public void OfferMessage_ConsumeToAcceptAndSourceHasNothing_ReturnsNotAvailableAndFreesTheSlot()
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { BoundedCapacity = 1 });
        var source = new Mock<ISourceBlock<Job>>();
        bool consumed = false;
        source.Setup(s => s.ConsumeMessage(It.IsAny<DataflowMessageHeader>(), It.IsAny<ITargetBlock<Job>>(), out consumed)).Returns(default(Job));

        DataflowMessageStatus status = AsTarget(block).OfferMessage(new DataflowMessageHeader(1), new Job(0, 1), source.Object, consumeToAccept: true);

        Assert.That(status, Is.EqualTo(DataflowMessageStatus.NotAvailable));
        Assert.That(block.Count, Is.Zero);
        Assert.That(block.Post(new Job(0, 2)), Is.True);
    }

    [Test]
    public void OfferMessage_ConsumeToAccept_BuffersTheValueTheSourceHandsOver()
    {
        PriorityBufferBlock<Job> block = CreateSut();
        var source = new Mock<ISourceBlock<Job>>();
        bool consumed = true;
        source.Setup(s => s.ConsumeMessage(new DataflowMessageHeader(7), block, out consumed)).Returns(new Job(4, 7));

        DataflowMessageStatus status = AsTarget(block).OfferMessage(new DataflowMessageHeader(7), new Job(4, 7), source.Object, consumeToAccept: true);

        Assert.That(status, Is.EqualTo(DataflowMessageStatus.Accepted));
        Assert.That(block.TryReceive(out Job item), Is.True);
        Assert.That(item, Is.EqualTo(new Job(4, 7)));
    }

    [Test]
    public void OfferMessage_InvalidArguments_Throw()
    {
        ITargetBlock<Job> target = CreateSut();

        Assert.That(() => target.OfferMessage(default, new Job(0, 1), null, consumeToAccept: false), Throws.ArgumentException);
        Assert.That(() => target.OfferMessage(new DataflowMessageHeader(1), new Job(0, 1), null, consumeToAccept: true), Throws.ArgumentException);
    }

    [Test]
    public void OfferMessage_AfterComplete_DeclinesPermanently()
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Complete();

        Assert.That(block.Post(new Job(0, 1)), Is.False);
        Assert.That(AsTarget(block).OfferMessage(new DataflowMessageHeader(1), new Job(0, 1), null, false), Is.EqualTo(DataflowMessageStatus.DecliningPermanently));
    }

    // ------------------------------------------------------------------ reservations and exact offers

    [Test]
    public void ReserveMessage_OfferedItem_IsHeldAgainstReceivesAndOffersUntilConsumed()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(5, 1));
        scheduler.RunAll();
        DataflowMessageHeader header = probe.LastOffer.Header;

        Assert.That(AsSource(block).ReserveMessage(header, probe), Is.True);
        block.Post(new Job(0, 2));
        scheduler.RunAll();
        Assert.That(block.TryReceive(out _), Is.False);
        Assert.That(block.Count, Is.EqualTo(2));
        Assert.That(probe.Offers, Has.Count.EqualTo(1), "nothing is offered while a reservation is held");

        Job consumed = AsSource(block).ConsumeMessage(header, probe, out bool messageConsumed);
        scheduler.RunAll();

        Assert.That(messageConsumed, Is.True);
        Assert.That(consumed, Is.EqualTo(new Job(5, 1)));
        Assert.That(probe.LastOffer.Value, Is.EqualTo(new Job(0, 2)));
    }

    [Test]
    public void ReleaseReservation_ReservedItem_GoesBackToItsPlace()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(1, 1));
        block.Post(new Job(1, 2));
        scheduler.RunAll();
        DataflowMessageHeader header = probe.LastOffer.Header;
        Assert.That(AsSource(block).ReserveMessage(header, probe), Is.True);
        block.Post(new Job(1, 3));

        AsSource(block).ReleaseReservation(header, probe);
        scheduler.RunAll();

        Assert.That(probe.LastOffer, Is.EqualTo((header, new Job(1, 1))), "the released item is offered again under its id");
        block.TryReceiveAll(out IList<Job>? items);
        Assert.That(items!.Select(j => j.Id), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void ReserveMessage_WhenAnotherTargetHoldsAReservation_ReturnsFalseAndConsumeByOthersFails()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        var other = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(1, 1));
        scheduler.RunAll();
        DataflowMessageHeader header = probe.LastOffer.Header;
        Assert.That(AsSource(block).ReserveMessage(header, probe), Is.True);

        Assert.That(AsSource(block).ReserveMessage(header, other), Is.False);
        AsSource(block).ConsumeMessage(header, other, out bool consumed);
        Assert.That(consumed, Is.False);
        Assert.That(() => AsSource(block).ReleaseReservation(header, other), Throws.InvalidOperationException);
    }

    [Test]
    public void ReleaseReservation_NothingReserved_ThrowsInvalidOperationException()
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Post(new Job(0, 1));

        Assert.That(() => AsSource(block).ReleaseReservation(new DataflowMessageHeader(1), new ProbeTarget<Job>()), Throws.InvalidOperationException);
    }

    [Test]
    public void ReserveMessage_HeaderOfAnItemThatIsNoLongerBest_ReturnsFalse()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(5, 1));
        scheduler.RunAll();
        DataflowMessageHeader stale = probe.LastOffer.Header;

        block.Post(new Job(0, 2));

        Assert.That(AsSource(block).ReserveMessage(stale, probe), Is.False);
    }

    [Test]
    public void ProtocolMethods_InvalidArguments_Throw()
    {
        ISourceBlock<Job> source = CreateSut();
        var target = new ProbeTarget<Job>();

        Assert.That(() => source.ConsumeMessage(default, target, out _), Throws.ArgumentException);
        Assert.That(() => source.ConsumeMessage(new DataflowMessageHeader(1), null!, out _), Throws.ArgumentNullException);
        Assert.That(() => source.ReserveMessage(default, target), Throws.ArgumentException);
        Assert.That(() => source.ReserveMessage(new DataflowMessageHeader(1), null!), Throws.ArgumentNullException);
        Assert.That(() => source.ReleaseReservation(default, target), Throws.ArgumentException);
        Assert.That(() => source.ReleaseReservation(new DataflowMessageHeader(1), null!), Throws.ArgumentNullException);
    }

    [Test]
    public void ConsumeMessage_MoreUrgentItemArrivedAfterTheOffer_RefusesTheOldOfferAndOffersTheBestItem()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(100, 1));
        scheduler.RunAll();
        DataflowMessageHeader old = probe.LastOffer.Header;

        block.Post(new Job(0, 2));
        AsSource(block).ConsumeMessage(old, probe, out bool oldConsumed);
        scheduler.RunAll();
        (DataflowMessageHeader header, Job value) = probe.LastOffer;
        Job best = AsSource(block).ConsumeMessage(header, probe, out bool bestConsumed);

        Assert.That(oldConsumed, Is.False);
        Assert.That(value, Is.EqualTo(new Job(0, 2)));
        Assert.That(bestConsumed, Is.True);
        Assert.That(best, Is.EqualTo(new Job(0, 2)));
    }

    [Test]
    public void OfferLoop_LessUrgentArrival_DoesNotOfferTheSameBestItemAgain()
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(0, 1));
        scheduler.RunAll();

        block.Post(new Job(5, 2));
        block.Post(new Job(0, 3));
        scheduler.RunAll();

        Assert.That(probe.Offers, Has.Count.EqualTo(1));
    }

    // ------------------------------------------------------------------ completion, fault, cancellation

    [Test]
    [CancelAfter(10_000)]
    public async Task Complete_EmptyBuffer_CompletesSuccessfully(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();

        block.Complete();

        await block.Completion.WaitAsync(cancellationToken);
        Assert.That(block.Completion.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Complete_WithBufferedItems_CompletesOnlyAfterTheLastIsTaken(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Post(new Job(0, 1));
        block.Post(new Job(1, 2));

        block.Complete();
        block.TryReceive(out _);
        Assert.That(block.Completion.IsCompleted, Is.False);
        block.TryReceive(out _);

        await block.Completion.WaitAsync(cancellationToken);
        Assert.That(block.Completion.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Complete_WhileAnItemIsReserved_CompletesAfterItIsConsumed(CancellationToken cancellationToken)
    {
        var scheduler = new ManualTaskScheduler();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { TaskScheduler = scheduler });
        var probe = new ProbeTarget<Job>();
        block.LinkTo(probe, new DataflowLinkOptions());
        block.Post(new Job(0, 1));
        scheduler.RunAll();
        DataflowMessageHeader header = probe.LastOffer.Header;
        AsSource(block).ReserveMessage(header, probe);

        block.Complete();
        scheduler.RunAll();
        Assert.That(block.Completion.IsCompleted, Is.False);
        AsSource(block).ConsumeMessage(header, probe, out bool consumed);

        Assert.That(consumed, Is.True);
        await block.Completion.WaitAsync(cancellationToken);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Fault_WithBufferedItems_DropsThemAndCompletesFaulted(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Post(new Job(0, 1));
        block.Post(new Job(0, 2));

        ((IDataflowBlock)block).Fault(new InvalidOperationException("boom"));

        await Assert.ThatAsync(() => block.Completion.WaitAsync(cancellationToken), Throws.InvalidOperationException.With.Message.EqualTo("boom"));
        Assert.That(block.Count, Is.Zero);
        Assert.That(block.Post(new Job(0, 3)), Is.False);
    }

    [Test]
    public void Fault_NullException_ThrowsArgumentNullException()
    {
        IDataflowBlock block = CreateSut();

        Assert.That(() => block.Fault(null!), Throws.ArgumentNullException);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Fault_AfterComplete_IsIgnoredLikeBufferBlock(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        block.Post(new Job(0, 1));
        block.Complete();

        ((IDataflowBlock)block).Fault(new InvalidOperationException("late"));
        block.TryReceive(out _);

        await block.Completion.WaitAsync(cancellationToken);
        Assert.That(block.Completion.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task CancellationToken_CanceledWithBufferedItems_DropsThemAndCompletesCanceled(CancellationToken cancellationToken)
    {
        using var cancellation = new CancellationTokenSource();
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { CancellationToken = cancellation.Token, BoundedCapacity = 1 });
        block.Post(new Job(0, 1));
        Task<bool> send = block.SendAsync(new Job(0, 2));

        await cancellation.CancelAsync();

        await Assert.ThatAsync(() => block.Completion.WaitAsync(cancellationToken), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(block.Completion.IsCanceled, Is.True);
        Assert.That(block.Count, Is.Zero);
        Assert.That(await send.WaitAsync(cancellationToken), Is.False);
        Assert.That(block.Post(new Job(0, 3)), Is.False);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task CancellationToken_AlreadyCanceled_CompletesCanceledAtOnce(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut(new DataflowBlockOptions { CancellationToken = new CancellationToken(canceled: true) });

        Assert.That(block.Post(new Job(0, 1)), Is.False);
        await Assert.ThatAsync(() => block.Completion.WaitAsync(cancellationToken), Throws.InstanceOf<OperationCanceledException>());
    }

    // ------------------------------------------------------------------ the pipeline's use: a busy worker pool behind the buffer

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_GatedWorker_UrgentItemsOvertakeEveryItemStillWaiting(CancellationToken cancellationToken)
    {
        PriorityBufferBlock<Job> block = CreateSut();
        var started = new BufferBlock<Job>();
        using var gate = new SemaphoreSlim(0);
        var worker = new ActionBlock<Job>(
            async job =>
            {
                started.Post(job);
                await gate.WaitAsync(cancellationToken);
            },
            new ExecutionDataflowBlockOptions { BoundedCapacity = 1, MaxDegreeOfParallelism = 1 });
        block.LinkTo(worker, new DataflowLinkOptions { PropagateCompletion = true });
        for (int i = 0; i < 50; i++)
        {
            block.Post(new Job(100, i));
        }

        var order = new List<Job> { await started.ReceiveAsync(cancellationToken) };
        block.Post(new Job(0, 1000));
        for (int step = 0; step < 10; step++)
        {
            gate.Release();
            order.Add(await started.ReceiveAsync(cancellationToken));
        }

        // The worker is busy with a backlog item and has postponed the buffer's offer: new urgent items must still win.
        block.Post(new Job(50, 2000));
        block.Post(new Job(10, 3000));
        while (order.Count < 53)
        {
            gate.Release();
            order.Add(await started.ReceiveAsync(cancellationToken));
        }

        gate.Release();
        block.Complete();
        await worker.Completion.WaitAsync(cancellationToken);

        int[] expected = [0, 1000, .. Enumerable.Range(1, 9), 3000, 2000, .. Enumerable.Range(10, 40)];
        Assert.That(order.Select(j => j.Id), Is.EqualTo(expected));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task LinkTo_TransformBlockBehindLargeBacklog_UrgentItemIsTakenByTheFirstWorkerToFreeUp(CancellationToken cancellationToken)
    {
        // Workers are freed one at a time: the block decides which item a freed worker takes, while the order in
        // which items released together start running on their threads is up to the thread scheduler.
        const int Backlog = 100_000;
        const int Workers = 4;
        PriorityBufferBlock<Job> block = CreateSut();
        var started = new BufferBlock<Job>();
        using var release = new SemaphoreSlim(0);
        var transform = new TransformBlock<Job, Job>(
            async job =>
            {
                started.Post(job);
                await release.WaitAsync(cancellationToken);
                return job;
            },
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = Workers, BoundedCapacity = Workers, EnsureOrdered = false });
        int finished = 0;
        var sink = new ActionBlock<Job>(_ => finished++);
        block.LinkTo(transform, new DataflowLinkOptions { PropagateCompletion = true });
        transform.LinkTo(sink, new DataflowLinkOptions { PropagateCompletion = true });
        for (int i = 0; i < Backlog; i++)
        {
            block.Post(new Job(100, i));
        }

        var firstIds = new List<int>();
        for (int i = 0; i < Workers; i++)
        {
            firstIds.Add((await started.ReceiveAsync(cancellationToken)).Id);
        }

        block.Post(new Job(0, -1));
        release.Release();
        Job next = await started.ReceiveAsync(cancellationToken);
        release.Release(Backlog);
        block.Complete();
        await sink.Completion.WaitAsync(cancellationToken);

        Assert.That(firstIds, Is.EquivalentTo(Enumerable.Range(0, Workers)));
        Assert.That(next.Id, Is.EqualTo(-1), "the first worker to free up takes the urgent item");
        Assert.That(finished, Is.EqualTo(Backlog + 1));
    }
}
