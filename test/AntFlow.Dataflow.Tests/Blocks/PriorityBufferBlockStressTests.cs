namespace AntFlow.Dataflow.Tests.Blocks;

/// <summary>Concurrency: many producers and consumers at once, bounded and unbounded.</summary>
[TestFixture]
public sealed class PriorityBufferBlockStressTests
{
    private const int Producers = 6;
    private const int ItemsPerProducer = 2_000;

    [TestCase(DataflowBlockOptions.Unbounded)]
    [TestCase(8)]
    [TestCase(1)]
    [CancelAfter(20_000)]
    public async Task ManyProducersAndConsumers_EveryItemDeliveredExactlyOnceAndCompletionReached(int capacity, CancellationToken cancellationToken)
    {
        var block = new PriorityBufferBlock<Job>(job => job.Priority, new DataflowBlockOptions { BoundedCapacity = capacity });
        int[] seen = new int[Producers * ItemsPerProducer];
        void Record(Job job) => Interlocked.Increment(ref seen[job.Id]);

        // Consumers: two bounded worker pools (one behind a predicate link) and two receive loops.
        var workerOptions = new ExecutionDataflowBlockOptions { BoundedCapacity = 2, MaxDegreeOfParallelism = 2 };
        var workers = new ActionBlock<Job>(Record, workerOptions);
        var evenWorkers = new ActionBlock<Job>(Record, workerOptions);
        block.LinkTo(evenWorkers, new DataflowLinkOptions { PropagateCompletion = true }, job => job.Id % 2 == 0);
        block.LinkTo(workers, new DataflowLinkOptions { PropagateCompletion = true });
        Task[] receivers = Enumerable.Range(0, 2).Select(_ => Task.Run(
            async () =>
            {
                while (await block.OutputAvailableAsync(cancellationToken))
                {
                    while (block.TryReceive(out Job job))
                    {
                        Record(job);
                    }
                }
            },
            cancellationToken)).ToArray();

        Task[] producers = Enumerable.Range(0, Producers).Select(producer => Task.Run(
            async () =>
            {
                // Half the producers send with a cancelable token, which offers with consumeToAccept.
                using var sendCancellation = new CancellationTokenSource();
                var random = new Random(producer);
                for (int i = 0; i < ItemsPerProducer; i++)
                {
                    var job = new Job(random.Next(10), (producer * ItemsPerProducer) + i);
                    bool accepted = producer % 2 == 0
                        ? await block.SendAsync(job, sendCancellation.Token)
                        : await block.SendAsync(job);
                    Assert.That(accepted, Is.True);
                }
            },
            cancellationToken)).ToArray();

        await Task.WhenAll(producers).WaitAsync(cancellationToken);
        block.Complete();
        await Task.WhenAll([block.Completion, workers.Completion, evenWorkers.Completion, .. receivers]).WaitAsync(cancellationToken);

        Assert.That(seen, Is.All.EqualTo(1), "every item exactly once");
        Assert.That(block.Count, Is.Zero);
    }

    [TestCase(DataflowBlockOptions.Unbounded)]
    [TestCase(4)]
    [CancelAfter(20_000)]
    public async Task ManyProducersOneWorker_EqualPrioritiesFromOneProducerStayInSendOrder(int capacity, CancellationToken cancellationToken)
    {
        var block = new PriorityBufferBlock<Job>(job => job.Priority, new DataflowBlockOptions { BoundedCapacity = capacity });
        var order = new List<Job>();
        var worker = new ActionBlock<Job>(order.Add, new ExecutionDataflowBlockOptions { BoundedCapacity = 1 });
        block.LinkTo(worker, new DataflowLinkOptions { PropagateCompletion = true });

        Task[] producers = Enumerable.Range(0, Producers).Select(producer => Task.Run(
            async () =>
            {
                var random = new Random(producer + 100);
                for (int i = 0; i < ItemsPerProducer; i++)
                {
                    Assert.That(await block.SendAsync(new Job(random.Next(4), (producer * ItemsPerProducer) + i)), Is.True);
                }
            },
            cancellationToken)).ToArray();
        await Task.WhenAll(producers).WaitAsync(cancellationToken);
        block.Complete();
        await worker.Completion.WaitAsync(cancellationToken);

        // Each producer's sends arrive in order, so FIFO among equal priorities means each
        // (producer, priority) sequence comes out in increasing id order, whatever the interleaving.
        Assert.That(order, Has.Count.EqualTo(Producers * ItemsPerProducer));
        foreach (IGrouping<(int Producer, int Priority), Job> sequence in order.GroupBy(job => (job.Id / ItemsPerProducer, job.Priority)))
        {
            Assert.That(sequence.Select(job => job.Id), Is.Ordered, $"producer {sequence.Key.Producer}, priority {sequence.Key.Priority}");
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    [CancelAfter(20_000)]
    public async Task CancelOrFaultUnderLoad_CompletesAndReleasesEveryProducerWithoutDuplicates(bool cancel, CancellationToken cancellationToken)
    {
        using var blockCancellation = new CancellationTokenSource();
        var block = new PriorityBufferBlock<Job>(
            job => job.Priority,
            new DataflowBlockOptions { BoundedCapacity = 16, CancellationToken = blockCancellation.Token });
        int[] seen = new int[Producers * ItemsPerProducer];
        var quarterDelivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int delivered = 0;
        var workers = new ActionBlock<Job>(
            async job =>
            {
                Interlocked.Increment(ref seen[job.Id]);
                int count = Interlocked.Increment(ref delivered);
                if (count == seen.Length / 4)
                {
                    quarterDelivered.TrySetResult();
                }

                // Hold the workers from here until the block is stopped, so the stop lands mid-stream.
                if (count >= seen.Length / 4)
                {
                    await stopped.Task.WaitAsync(cancellationToken);
                }
            },
            new ExecutionDataflowBlockOptions { BoundedCapacity = 4, MaxDegreeOfParallelism = 4 });
        block.LinkTo(workers, new DataflowLinkOptions { PropagateCompletion = true });

        Task<int>[] producers = Enumerable.Range(0, Producers).Select(producer => Task.Run(
            async () =>
            {
                int accepted = 0;
                for (int i = 0; i < ItemsPerProducer; i++)
                {
                    if (await block.SendAsync(new Job(i % 3, (producer * ItemsPerProducer) + i)))
                    {
                        accepted++;
                    }
                }

                return accepted;
            },
            cancellationToken)).ToArray();

        await quarterDelivered.Task.WaitAsync(cancellationToken);
        if (cancel)
        {
            await blockCancellation.CancelAsync();
        }
        else
        {
            ((IDataflowBlock)block).Fault(new InvalidOperationException("stop"));
        }

        stopped.SetResult();

        int[] acceptedPerProducer = await Task.WhenAll(producers).WaitAsync(cancellationToken);
        await Assert.ThatAsync(() => block.Completion.WaitAsync(cancellationToken), Throws.InstanceOf(cancel ? typeof(OperationCanceledException) : typeof(InvalidOperationException)));
        await Task.WhenAny(workers.Completion).WaitAsync(cancellationToken);

        Assert.That(seen, Is.All.InRange(0, 1), "nothing delivered twice");
        Assert.That(seen.Sum(), Is.LessThanOrEqualTo(acceptedPerProducer.Sum()), "only accepted items are delivered");
        Assert.That(acceptedPerProducer.Sum(), Is.LessThan(seen.Length), "items offered after the stop are declined");
        Assert.That(block.Count, Is.Zero);
    }

    [TestCase(1, false)]
    [TestCase(4, false)]
    [TestCase(4, true)]
    [CancelAfter(30_000)]
    public async Task BusyWorkerPool_UrgentPostedWhileAWorkerFrees_IsTheNextItemTakenOnceItIsBuffered(int workers, bool actionBlock, CancellationToken cancellationToken)
    {
        // Many short rounds, each racing the urgent item's arrival against a worker freeing up, while the backlog is
        // still being posted from another thread and the offer loop runs. The worker pool has postponed the offer of
        // a backlog item, so the urgent arrival must replace it (or, if the pool already came back for the old offer,
        // that consumption is refused and followed by a fresh offer). Workers are freed one at a time, so each check is
        // about which item the pool takes, never about how threads are scheduled.
        const int Rounds = 150;
        const int Backlog = 300;
        for (int round = 0; round < Rounds; round++)
        {
            await RunRoundAsync(workers, actionBlock, Backlog, new Random(round), cancellationToken);
        }
    }

    private static async Task RunRoundAsync(int workers, bool actionBlock, int backlog, Random random, CancellationToken cancellationToken)
    {
        var block = new PriorityBufferBlock<Job>(job => job.Priority, new DataflowBlockOptions { BoundedCapacity = backlog + 1 });
        var started = new BufferBlock<Job>();
        using var release = new SemaphoreSlim(0);
        async Task<Job> Work(Job job)
        {
            started.Post(job);
            await release.WaitAsync(cancellationToken);
            return job;
        }

        var options = new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = workers, BoundedCapacity = workers, EnsureOrdered = false };
        IDataflowBlock pool;
        if (actionBlock)
        {
            var action = new ActionBlock<Job>(Work, options);
            block.LinkTo(action, new DataflowLinkOptions { PropagateCompletion = true });
            pool = action;
        }
        else
        {
            var transform = new TransformBlock<Job, Job>(Work, options);
            block.LinkTo(transform, new DataflowLinkOptions { PropagateCompletion = true });
            transform.LinkTo(DataflowBlock.NullTarget<Job>());
            pool = transform;
        }

        Task posting = Task.Run(
            () =>
            {
                for (int i = 0; i < backlog; i++)
                {
                    Assert.That(block.Post(new Job(100, i)), Is.True);
                }
            },
            cancellationToken);

        var taken = new List<int>();
        for (int i = 0; i < workers; i++)
        {
            taken.Add((await started.ReceiveAsync(cancellationToken)).Id);
        }

        await posting.WaitAsync(cancellationToken);
        int spin = random.Next(200);
        Task urgent = Task.Run(
            () =>
            {
                Thread.SpinWait(spin);
                Assert.That(block.Post(new Job(0, -1)), Is.True);
            },
            cancellationToken);
        release.Release();
        taken.Add((await started.ReceiveAsync(cancellationToken)).Id);
        await urgent.WaitAsync(cancellationToken);
        if (taken[^1] != -1)
        {
            // The freed worker took the backlog head before the urgent item arrived; the next one must take it.
            release.Release();
            taken.Add((await started.ReceiveAsync(cancellationToken)).Id);
        }

        release.Release(backlog + 1);
        block.Complete();
        await pool.Completion.WaitAsync(cancellationToken);

        int[] expectedBefore = [.. Enumerable.Range(0, taken.Count - 1)];
        Assert.That(taken[..^1], Is.EquivalentTo(expectedBefore), "backlog items taken in arrival order before the urgent one");
        Assert.That(taken[^1], Is.EqualTo(-1), "once buffered, the urgent item is the next one a freed worker takes");
    }
}
