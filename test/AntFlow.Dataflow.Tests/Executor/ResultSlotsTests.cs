namespace AntFlow.Dataflow.Tests.Executor;

[TestFixture]
public sealed class ResultSlotsTests
{
    [Test]
    public void ToArray_KnownCount_ReturnsTheSlotsInIndexOrder()
    {
        var slots = new ResultSlots<int>(expectedCount: 3);
        for (int i = 0; i < 3; i++)
        {
            slots.Reserve(i);
        }

        slots.Set(2, 20);
        slots.Set(0, 0);
        slots.Set(1, 10);

        Assert.That(slots.ToArray(3), Is.EqualTo(new[] { 0, 10, 20 }));
    }

    [TestCase(0, 10_000)]
    [TestCase(5, 9_000)]
    [TestCase(5, 3)]
    public void ToArray_MoreOrFewerThanExpected_ReturnsExactlyWhatWasReserved(int expected, int actual)
    {
        var slots = new ResultSlots<long>(expected);
        for (int i = 0; i < actual; i++)
        {
            slots.Reserve(i);
        }

        for (int i = actual - 1; i >= 0; i--)
        {
            slots.Set(i, i * 3L);
        }

        Assert.That(slots.ToArray(actual), Is.EqualTo(Enumerable.Range(0, actual).Select(i => i * 3L)));
    }
}
