using AntFlow.Dataflow.Console.Rendering;

namespace AntFlow.Dataflow.Tests.Console;

[TestFixture]
public sealed class DisplayFormatTests
{
    [TestCase(0L, "0")]
    [TestCase(999L, "999")]
    [TestCase(1234L, "1,234")]
    [TestCase(1234567L, "1,234,567")]
    public void Count_Value_UsesInvariantThousandsSeparators(long value, string expected)
    {
        Assert.That(DisplayFormat.Count(value), Is.EqualTo(expected));
    }

    [TestCase(0.0, "0.0%")]
    [TestCase(0.6, "60.0%")]
    [TestCase(0.12345, "12.3%")]
    [TestCase(1.0, "100.0%")]
    public void Percent_Fraction_ShowsOneDecimal(double fraction, string expected)
    {
        Assert.That(DisplayFormat.Percent(fraction), Is.EqualTo(expected));
    }

    [Test]
    public void Percent_Unknown_ShowsDash()
    {
        Assert.That(DisplayFormat.Percent(null), Is.EqualTo("–"));
        Assert.That(DisplayFormat.Percent(double.NaN), Is.EqualTo("–"));
    }

    [TestCase(40.1234, "40.1 items/s")]
    [TestCase(1.0, "1.0 items/s")]
    [TestCase(0.5, "0.50 items/s")]
    [TestCase(1234.4, "1,234 items/s")]
    [TestCase(0.05, "3.0 items/min")]
    [TestCase(0.01, "0.60 items/min")]
    [TestCase(0.0, "0 items/s")]
    public void Rate_ItemsPerSecond_PicksAReadableUnit(double rate, string expected)
    {
        Assert.That(DisplayFormat.Rate(rate), Is.EqualTo(expected));
    }

    [TestCase(null)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(-1.0)]
    public void Rate_UnknownOrInvalid_ShowsDash(double? rate)
    {
        Assert.That(DisplayFormat.Rate(rate), Is.EqualTo("–"));
    }

    [TestCase(0.0, "00:00:00")]
    [TestCase(2.0, "00:00:02")]
    [TestCase(0.4, "00:00:01")]
    [TestCase(3661.0, "01:01:01")]
    [TestCase(93_600.0, "1d 02:00:00")]
    [TestCase(-5.0, "00:00:00")]
    public void Clock_Span_ShowsHoursMinutesSecondsRoundedUp(double seconds, string expected)
    {
        Assert.That(DisplayFormat.Clock(TimeSpan.FromSeconds(seconds)), Is.EqualTo(expected));
    }

    [Test]
    public void Clock_Unknown_ShowsDash()
    {
        Assert.That(DisplayFormat.Clock(null), Is.EqualTo("–"));
    }

    [TestCase(0.5, "0.5 ms")]
    [TestCase(250.0, "250 ms")]
    [TestCase(2500.0, "2.50 s")]
    [TestCase(125_000.0, "2m 05s")]
    [TestCase(3_725_000.0, "1h 02m")]
    public void Duration_Span_PicksAReadableUnit(double milliseconds, string expected)
    {
        Assert.That(DisplayFormat.Duration(TimeSpan.FromMilliseconds(milliseconds)), Is.EqualTo(expected));
    }

    [Test]
    public void Duration_Unknown_ShowsDash()
    {
        Assert.That(DisplayFormat.Duration(null), Is.EqualTo("–"));
    }

    [Test]
    public void SingleLine_MultiLineMessage_CollapsesWhitespace()
    {
        Assert.That(DisplayFormat.SingleLine("first line\r\n   second\tline\n", 100), Is.EqualTo("first line second line"));
    }

    [Test]
    public void SingleLine_LongMessage_EndsWithEllipsisWithinLimit()
    {
        string result = DisplayFormat.SingleLine(new string('x', 50), 10);

        Assert.That(result, Is.EqualTo("xxxxxxxxx…"));
        Assert.That(result, Has.Length.EqualTo(10));
    }

    [Test]
    public void SingleLine_NullOrEmpty_ReturnsEmpty()
    {
        Assert.That(DisplayFormat.SingleLine(null, 10), Is.Empty);
        Assert.That(DisplayFormat.SingleLine(string.Empty, 10), Is.Empty);
    }

    [Test]
    public void ItemId_Values_FormatWithoutSeparatorsOrCulture()
    {
        Assert.That(DisplayFormat.ItemId(12345L), Is.EqualTo("12345"));
        Assert.That(DisplayFormat.ItemId("order-7"), Is.EqualTo("order-7"));
        Assert.That(DisplayFormat.ItemId(1.5), Is.EqualTo("1.5"));
        Assert.That(DisplayFormat.ItemId(null), Is.EqualTo("–"));
    }

    [Test]
    public void ProgressLine_KnownTotal_ShowsDoneTotalPercentFailedRateAndEta()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().AtSeconds(1).Counts(processed: 115, failed: 3, cancelled: 2).Build();

        string line = DisplayFormat.ProgressLine(ConsoleTestHelpers.Frame(snapshot, total: 200, rate: 40.1, eta: TimeSpan.FromSeconds(2)));

        Assert.That(
            line,
            Is.EqualTo($"[{ConsoleTestHelpers.Clock(snapshot.Timestamp)}] 120/200 done (60.0%), 3 failed, 40.1 items/s, ETA 00:00:02"));
    }

    [Test]
    public void ProgressLine_UnknownTotal_ShowsCountRateAndElapsed()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().Counts(processed: 120).Build();

        string line = DisplayFormat.ProgressLine(ConsoleTestHelpers.Frame(snapshot, total: null, rate: null, elapsed: TimeSpan.FromSeconds(3)));

        Assert.That(line, Is.EqualTo($"[{ConsoleTestHelpers.Clock(snapshot.Timestamp)}] 120 done, 0 failed, –, elapsed 00:00:03"));
    }

    [Test]
    public void SummaryLine_FinalFrame_ShowsEveryCountElapsedAndRate()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().Counts(processed: 195, failed: 3, skipped: 4, cancelled: 2).Build();

        string line = DisplayFormat.SummaryLine(
            ConsoleTestHelpers.Frame(snapshot, total: 200, rate: 40, elapsed: TimeSpan.FromSeconds(5), isFinal: true));

        Assert.That(
            line,
            Is.EqualTo($"[{ConsoleTestHelpers.Clock(snapshot.Timestamp)}] Finished: 200/200 done (100.0%) in 00:00:05: " +
                "195 processed, 3 failed, 2 cancelled, 4 skipped, 40.0 items/s"));
    }

    [Test]
    public void StartLine_TotalAndStages_ListsThemInOrder()
    {
        string line = DisplayFormat.StartLine(null, 1, ["Fetch", "Save"]);

        Assert.That(line, Is.EqualTo("Started: 1 item, 2 stages (Fetch, Save)"));
    }

    [Test]
    public void StartLine_UnknownTotal_SaysSo()
    {
        Assert.That(DisplayFormat.StartLine(null, null, []), Is.EqualTo("Started: unknown number of items"));
    }
}
