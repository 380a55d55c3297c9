namespace AntFlow.Dataflow.Tests.Monitoring;

[TestFixture]
public sealed class StatusTrackerOptionsTests
{
    [Test]
    public void Ctor_Defaults_AreDocumentedValues()
    {
        var options = new StatusTrackerOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.MaxHistoryPerItem, Is.EqualTo(100));
            Assert.That(options.EventBufferCapacity, Is.EqualTo(10_000));
            Assert.That(options.MaxFinishedItems, Is.Null);
        });
    }

    [TestCase(0)]
    [TestCase(-5)]
    public void MaxHistoryPerItem_LessThanOne_ThrowsWithMessage(int value)
    {
        var options = new StatusTrackerOptions();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxHistoryPerItem = value);

        Assert.Multiple(() =>
        {
            Assert.That(ex.ParamName, Is.EqualTo("MaxHistoryPerItem"));
            Assert.That(ex.ActualValue, Is.EqualTo(value));
            Assert.That(ex.Message, Does.StartWith($"MaxHistoryPerItem must be at least 1 (was {value})."));
            Assert.That(options.MaxHistoryPerItem, Is.EqualTo(100));
        });
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void EventBufferCapacity_LessThanOne_ThrowsWithMessage(int value)
    {
        var options = new StatusTrackerOptions();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => options.EventBufferCapacity = value);

        Assert.Multiple(() =>
        {
            Assert.That(ex.ParamName, Is.EqualTo("EventBufferCapacity"));
            Assert.That(ex.Message, Does.StartWith($"EventBufferCapacity must be at least 1 (was {value})."));
            Assert.That(options.EventBufferCapacity, Is.EqualTo(10_000));
        });
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void MaxFinishedItems_LessThanOne_ThrowsWithMessage(int value)
    {
        var options = new StatusTrackerOptions();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxFinishedItems = value);

        Assert.Multiple(() =>
        {
            Assert.That(ex.ParamName, Is.EqualTo("MaxFinishedItems"));
            Assert.That(ex.Message, Does.StartWith($"MaxFinishedItems must be at least 1 or null (was {value})."));
            Assert.That(options.MaxFinishedItems, Is.Null);
        });
    }

    [Test]
    public void Setters_ValidValues_Kept()
    {
        var options = new StatusTrackerOptions { MaxHistoryPerItem = 1, EventBufferCapacity = 1, MaxFinishedItems = 1 };

        options.MaxFinishedItems = null;

        Assert.Multiple(() =>
        {
            Assert.That(options.MaxHistoryPerItem, Is.EqualTo(1));
            Assert.That(options.EventBufferCapacity, Is.EqualTo(1));
            Assert.That(options.MaxFinishedItems, Is.Null);
        });
    }
}
