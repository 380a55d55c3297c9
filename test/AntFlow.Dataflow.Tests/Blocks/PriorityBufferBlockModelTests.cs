namespace AntFlow.Dataflow.Tests.Blocks;

/// <summary>
/// Random operation sequences checked step by step against a reference model (sort by priority,
/// then by arrival). The block runs on a <see cref="ManualTaskScheduler"/>, so its background work
/// happens at known points and every expectation is exact.
/// </summary>
[TestFixture]
public sealed class PriorityBufferBlockModelTests
{
    private const int Seeds = 200;
    private const int OperationsPerSeed = 120;

    [Test]
    [CancelAfter(30_000)]
    public async Task Operations_RandomSequencesUnbounded_MatchTheReferenceModel(CancellationToken cancellationToken)
    {
        for (int seed = 0; seed < Seeds; seed++)
        {
            await RunSequenceAsync(seed, capacity: DataflowBlockOptions.Unbounded, cancellationToken);
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Operations_RandomSequencesBounded_MatchTheReferenceModel(CancellationToken cancellationToken)
    {
        for (int seed = 0; seed < Seeds; seed++)
        {
            await RunSequenceAsync(seed, capacity: 1 + (seed % 5), cancellationToken);
        }
    }

    private static async Task RunSequenceAsync(int seed, int capacity, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var scheduler = new ManualTaskScheduler();
        var block = new PriorityBufferBlock<Job>(
            job => job.Priority,
            new DataflowBlockOptions { TaskScheduler = scheduler, BoundedCapacity = capacity });
        ISourceBlock<Job> source = block;
        var model = new ReferenceModel(capacity);
        var probe = new ProbeTarget<Job>();
        bool linked = random.Next(4) != 0;
        if (linked)
        {
            block.LinkTo(probe, new DataflowLinkOptions());
        }

        var sends = new List<(Job Job, Task<bool> Task)>();
        DataflowMessageHeader reservedHeader = default;
        int nextId = 0;
        for (int step = 0; step < OperationsPerSeed; step++)
        {
            string where = $"seed {seed}, capacity {capacity}, step {step}";
            int choice = random.Next(100);
            bool probeHasOffer = linked && probe.Offers.Count > 0;
            if (choice < 30 || (choice >= 72 && !probeHasOffer))
            {
                var job = new Job(random.Next(5), nextId++);
                Assert.That(block.Post(job), Is.EqualTo(model.TryAdmit(job)), $"Post at {where}");
            }
            else if (choice < 45)
            {
                var job = new Job(random.Next(5), nextId++);
                Task<bool> send = block.SendAsync(job);
                sends.Add((job, send));
                if (model.TryAdmit(job))
                {
                    Assert.That(send.IsCompletedSuccessfully, Is.True, $"SendAsync with room at {where}");
                }
                else
                {
                    model.Postpone(job);
                    Assert.That(send.IsCompleted, Is.False, $"SendAsync when full at {where}");
                }
            }
            else if (choice < 60)
            {
                Job? expected = model.TryTakeBest();
                bool received = block.TryReceive(out Job item);
                Assert.That(received ? item : (Job?)null, Is.EqualTo(expected), $"TryReceive at {where}");
            }
            else if (choice < 68)
            {
                Job? best = model.Best;
                Job? expected = best is { Id: var id } && id % 2 == 0 ? model.TryTakeBest() : null;
                bool received = block.TryReceive(job => job.Id % 2 == 0, out Job item);
                Assert.That(received ? item : (Job?)null, Is.EqualTo(expected), $"TryReceive(filter) at {where}");
            }
            else if (choice < 72)
            {
                List<Job>? expected = model.TryTakeAll();
                bool received = block.TryReceiveAll(out IList<Job>? items);
                Assert.That(received ? items : null, Is.EqualTo(expected), $"TryReceiveAll at {where}");
            }
            else if (choice < 80)
            {
                (DataflowMessageHeader header, Job offered) = probe.LastOffer;
                bool expected = model.TryReserve(offered);
                Assert.That(source.ReserveMessage(header, probe), Is.EqualTo(expected), $"ReserveMessage at {where}");
                if (expected)
                {
                    reservedHeader = header;
                }
            }
            else if (choice < 86)
            {
                if (model.Reserved is not null)
                {
                    source.ReleaseReservation(reservedHeader, probe);
                    model.Release();
                }
                else
                {
                    Assert.That(() => source.ReleaseReservation(probe.LastOffer.Header, probe), Throws.InvalidOperationException, $"ReleaseReservation at {where}");
                }
            }
            else
            {
                // The latest offer, or an older (possibly stale) one: it may be consumed only while it names the best item.
                IReadOnlyList<(DataflowMessageHeader Header, Job Value)> offers = probe.Offers;
                (DataflowMessageHeader header, Job offered) = choice < 94 ? offers[^1] : offers[random.Next(offers.Count)];
                Job? expected = model.TryConsume(offered);
                Job item = source.ConsumeMessage(header, probe, out bool consumed);
                Assert.That(consumed ? item : (Job?)null, Is.EqualTo(expected), $"ConsumeMessage at {where}");
            }

            scheduler.RunAll();
            model.AdmitPostponed();
            Assert.That(block.Count, Is.EqualTo(model.Count), $"Count after {where}");
            if (linked && model.Reserved is null && model.Best is Job bestNow)
            {
                Assert.That(probe.LastOffer.Value, Is.EqualTo(bestNow), $"the outstanding offer must name the best item after {where}");
            }
        }

        if (model.Reserved is not null)
        {
            source.ReleaseReservation(reservedHeader, probe);
            model.Release();
        }

        block.Complete();
        scheduler.RunAll();
        List<Job> remaining = model.TryTakeAll() ?? [];
        block.TryReceiveAll(out IList<Job>? drained);
        scheduler.RunAll();
        Assert.That(drained ?? [], Is.EqualTo(remaining), $"final drain, seed {seed}");
        await block.Completion.WaitAsync(cancellationToken);

        foreach ((Job job, Task<bool> send) in sends)
        {
            Assert.That(await send.WaitAsync(cancellationToken), Is.EqualTo(model.WasAdmitted(job)), $"SendAsync of {job}, seed {seed}");
        }
    }

    /// <summary>What the block must do: a list ordered by (priority, arrival), plus postponed producers ordered the same way.</summary>
    private sealed class ReferenceModel(int capacity)
    {
        private readonly List<(Job Job, long Arrival)> _buffer = [];
        private readonly List<(Job Job, long Arrival)> _postponed = [];
        private readonly HashSet<int> _admitted = [];
        private long _nextArrival;
        private long _nextPostponed;
        private (Job Job, long Arrival)? _reserved;

        public int Count => _buffer.Count + (_reserved is null ? 0 : 1);

        public Job? Reserved => _reserved?.Job;

        public Job? Best => _reserved is null && _buffer.Count > 0 ? _buffer.MinBy(Key).Job : null;

        private bool HasRoom => capacity == DataflowBlockOptions.Unbounded || Count < capacity;

        public bool TryAdmit(Job job)
        {
            if (!HasRoom || _postponed.Count > 0)
            {
                return false;
            }

            Add(job);
            return true;
        }

        public void Postpone(Job job) => _postponed.Add((job, _nextPostponed++));

        public void AdmitPostponed()
        {
            while (HasRoom && _postponed.Count > 0)
            {
                (Job Job, long Arrival) next = _postponed.MinBy(Key);
                _postponed.Remove(next);
                Add(next.Job);
            }
        }

        public bool WasAdmitted(Job job) => _admitted.Contains(job.Id);

        public Job? TryTakeBest()
        {
            if (_reserved is not null || _buffer.Count == 0)
            {
                return null;
            }

            (Job Job, long Arrival) best = _buffer.MinBy(Key);
            _buffer.Remove(best);
            return best.Job;
        }

        public List<Job>? TryTakeAll()
        {
            if (_reserved is not null || _buffer.Count == 0)
            {
                return null;
            }

            List<Job> all = _buffer.OrderBy(Key).Select(e => e.Job).ToList();
            _buffer.Clear();
            return all;
        }

        public bool TryReserve(Job offered)
        {
            if (Best != offered)
            {
                return false;
            }

            (Job Job, long Arrival) best = _buffer.MinBy(Key);
            _buffer.Remove(best);
            _reserved = best;
            return true;
        }

        public void Release()
        {
            _buffer.Add(_reserved!.Value);
            _reserved = null;
        }

        public Job? TryConsume(Job offered)
        {
            if (_reserved is { } reserved)
            {
                if (reserved.Job != offered)
                {
                    return null;
                }

                _reserved = null;
                return reserved.Job;
            }

            return Best == offered ? TryTakeBest() : null;
        }

        private static (int Priority, long Arrival) Key((Job Job, long Arrival) entry) => (entry.Job.Priority, entry.Arrival);

        private void Add(Job job)
        {
            _buffer.Add((job, _nextArrival++));
            _admitted.Add(job.Id);
        }
    }
}
