namespace AntFlow.Dataflow.Tests.Blocks;

[TestFixture]
public sealed class PriorityLevelQueueTests
{
    [Test]
    public void TryDequeue_RandomKeysAndOrder_ReturnsItemsSortedByPriorityThenSequence([Range(0, 9)] int seed)
    {
        var random = new Random(seed);
        var queue = new PriorityLevelQueue<long>();
        var reference = new SortedSet<(int Priority, long Sequence)>();
        var expected = new List<(int, long, long, int)>();
        var actual = new List<(int, long, long, int)>();
        long nextSequence = 1;

        for (int step = 0; step < 3_000; step++)
        {
            if (random.Next(3) > 0 || reference.Count == 0)
            {
                // Sequences mostly arrive in order, sometimes late (claimed before a slower consumption),
                // and priorities come from a small set or, now and then, a fresh value.
                long sequence = nextSequence++;
                if (random.Next(10) == 0)
                {
                    sequence = -sequence; // negative: earlier than everything enqueued so far
                }

                int priority = random.Next(8) == 0 ? random.Next(-1_000, 1_000) : random.Next(4);
                queue.Enqueue(sequence, new PriorityKey(priority, sequence));
                reference.Add((priority, sequence));
            }
            else
            {
                (int priority, long sequence) = reference.Min;
                reference.Remove(reference.Min);
                expected.Add((priority, sequence, sequence, reference.Count));

                queue.TryPeek(out long peeked, out PriorityKey peekedKey);
                queue.TryDequeue(out long item, out PriorityKey key);
                Assert.That((peekedKey.Priority, peekedKey.Sequence, peeked), Is.EqualTo((key.Priority, key.Sequence, item)));
                actual.Add((key.Priority, key.Sequence, item, queue.Count));
            }
        }

        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void Enqueue_ReleasedItemWithSmallerSequence_GoesBackToTheFront()
    {
        var queue = new PriorityLevelQueue<string>();
        queue.Enqueue("second", new PriorityKey(1, 2));
        queue.Enqueue("third", new PriorityKey(1, 3));

        queue.Enqueue("first", new PriorityKey(1, 1));

        Assert.That(queue.Dequeue(), Is.EqualTo("first"));
        Assert.That(queue.Dequeue(), Is.EqualTo("second"));
        Assert.That(queue.Dequeue(), Is.EqualTo("third"));
        Assert.That(queue.TryDequeue(out _, out _), Is.False);
    }

    [Test]
    public void Clear_AfterItems_LeavesAnEmptyReusableQueue()
    {
        var queue = new PriorityLevelQueue<int>();
        queue.Enqueue(1, new PriorityKey(5, 1));
        queue.Enqueue(2, new PriorityKey(0, 2));

        queue.Clear();
        queue.Enqueue(3, new PriorityKey(9, 3));

        Assert.That(queue.Count, Is.EqualTo(1));
        Assert.That(queue.Dequeue(), Is.EqualTo(3));
        Assert.That(queue.TryPeek(out _, out _), Is.False);
    }
}
