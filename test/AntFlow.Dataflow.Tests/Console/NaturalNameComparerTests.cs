using AntFlow.Dataflow.Console.Rendering;

namespace AntFlow.Dataflow.Tests.Console;

[TestFixture]
public sealed class NaturalNameComparerTests
{
    [Test]
    public void Compare_TrailingNumbers_SortNumerically()
    {
        string[] names = ["Fetch-W10", "Save-W0", "Fetch-W2", "Fetch-W0", "Fetch-W1", "Fetch"];

        string[] sorted = names.Order(NaturalNameComparer.Instance).ToArray();

        Assert.That(sorted, Is.EqualTo(new[] { "Fetch", "Fetch-W0", "Fetch-W1", "Fetch-W2", "Fetch-W10", "Save-W0" }));
    }

    [Test]
    public void Compare_LeadingZerosAndNulls_AreConsistent()
    {
        Assert.That(NaturalNameComparer.Instance.Compare("W007", "W7"), Is.Not.Zero);
        Assert.That(NaturalNameComparer.Instance.Compare("W007", "W8"), Is.LessThan(0));
        Assert.That(NaturalNameComparer.Instance.Compare(null, "a"), Is.LessThan(0));
        Assert.That(NaturalNameComparer.Instance.Compare("a", "a"), Is.Zero);
    }
}
