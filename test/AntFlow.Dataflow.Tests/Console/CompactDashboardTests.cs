using AntFlow.Dataflow.Console;
using Spectre.Console.Testing;
using static AntFlow.Dataflow.Tests.Console.ConsoleTestHelpers;

namespace AntFlow.Dataflow.Tests.Console;

[TestFixture]
public sealed class CompactDashboardTests
{
    [Test]
    public void BuildRenderable_Snapshot_ShowsProgressRateEtaAndEveryCount()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder()
            .Counts(processed: 1112, failed: 3, inFlight: 60, skipped: 4, cancelled: 5)
            .Build();

        string output = Render(CompactDashboard.BuildRenderable(Frame(snapshot, total: 2000, rate: 40.1, eta: TimeSpan.FromSeconds(22), elapsed: TimeSpan.FromSeconds(28))), width: 80);

        Assert.That(output, Does.Contain("1,120/2,000 done (56.0%)"));
        Assert.That(output, Does.Contain("Rate 40.1 items/s"));
        Assert.That(output, Does.Contain("ETA 00:00:22"));
        Assert.That(output, Does.Contain("Elapsed 00:00:28"));
        Assert.That(output, Does.Contain("Processed 1,112"));
        Assert.That(output, Does.Contain("Failed 3"));
        Assert.That(output, Does.Contain("In flight 60"));
        Assert.That(output, Does.Contain("Skipped 4"));
        Assert.That(output, Does.Contain("Cancelled 5"));
        Assert.That(output, Does.Contain("Pipeline").And.Contain("╭"), "inside a panel");
    }

    [Test]
    public void BuildRenderable_UnknownTotal_ShowsCountWithoutBarOrEta()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().Counts(processed: 120, inFlight: 7).Build();

        string output = Render(CompactDashboard.BuildRenderable(Frame(snapshot, total: null, rate: 40.1)));

        Assert.That(output, Does.Contain("120 done (total unknown)"));
        Assert.That(output, Does.Contain("Rate 40.1 items/s"));
        Assert.That(output, Does.Not.Contain("ETA").And.Not.Contain("█").And.Not.Contain("░"));
    }

    [Test]
    public void BuildRenderable_UnknownRateAndEta_ShowDashes()
    {
        string output = Render(CompactDashboard.BuildRenderable(Frame(SnapshotBuilder.Empty(), total: 10, rate: null) with { Eta = null }));

        Assert.That(output, Does.Contain("Rate –").And.Contain("ETA –"));
    }

    [Test]
    public void BuildRenderable_FinalFrame_ShowsFinishedHeaderAndAverageRate()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().Counts(processed: 10).Build();

        string output = Render(CompactDashboard.BuildRenderable(Frame(snapshot, total: 10, rate: 2, isFinal: true)));

        Assert.That(output, Does.Contain("Pipeline finished"));
        Assert.That(output, Does.Contain("Avg rate 2.0 items/s"));
        Assert.That(output, Does.Not.Contain("ETA"));
    }

    [Test]
    public void OnFinish_RedirectedOutput_PrintsSummaryLineThenThePanelWithoutEscapeCodes()
    {
        using TestConsole console = RedirectedConsole(width: 80);
        var display = new CompactDashboard(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 10);
        display.OnUpdate(new SnapshotBuilder().AtSeconds(1).Counts(processed: 4, inFlight: 6).Build());

        display.OnFinish(new SnapshotBuilder().AtSeconds(2).Counts(processed: 9, failed: 1).Build());

        string output = console.Output;
        Assert.That(HasEscapeCodes(output), Is.False);
        string[] lines = NonEmptyLines(output);
        Assert.That(lines[1], Does.EndWith("4/10 done (40.0%), 0 failed, 4.0 items/s, ETA 00:00:02"));
        Assert.That(lines[2], Does.EndWith("Finished: 10/10 done (100.0%) in 00:00:02: 9 processed, 1 failed, 0 cancelled, 0 skipped, 5.0 items/s"));
        Assert.That(output.IndexOf("Pipeline finished", StringComparison.Ordinal), Is.GreaterThan(output.IndexOf("Finished:", StringComparison.Ordinal)));
        Assert.That(output, Does.Contain("Processed 9").And.Contain("Failed 1"));
    }

    [Test]
    public void OnUpdate_Terminal_RedrawsThePanelInPlace()
    {
        using TestConsole console = TerminalConsole();
        var display = new CompactDashboard(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 10);

        display.OnUpdate(new SnapshotBuilder().AtSeconds(1).Counts(processed: 4).Build());

        // The panel is five lines: the update moves back over the five drawn at start and erases them.
        Assert.That(CountOf(console.Output, Esc + "[5A" + Esc + "[0J"), Is.EqualTo(1));
        Assert.That(StripAnsi(console.Output), Does.Contain("4/10 done (40.0%)"));
    }

    [Test]
    public void OnFinish_Terminal_PrintsTheFinalPanelOnceAfterErasingTheLiveOne()
    {
        using TestConsole console = TerminalConsole();
        var display = new CompactDashboard(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 10);
        display.OnUpdate(new SnapshotBuilder().AtSeconds(1).Counts(processed: 4).Build());

        display.OnFinish(new SnapshotBuilder().AtSeconds(2).Counts(processed: 10).Build());

        string output = console.Output;
        string afterLastErase = StripAnsi(output[(output.LastIndexOf(Esc + "[0J", StringComparison.Ordinal) + 4)..]);
        Assert.That(afterLastErase, Does.Contain("Pipeline finished").And.Contain("10/10 done (100.0%)"));
        Assert.That(CountOf(output, "Pipeline finished"), Is.EqualTo(1));
        Assert.That(output, Does.Not.Contain("Finished:"), "no log line on a terminal");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void OnUpdate_EmptySnapshot_DoesNotThrow(bool terminal)
    {
        using TestConsole console = terminal ? TerminalConsole() : RedirectedConsole();
        var display = new CompactDashboard(console);

        Assert.That(() =>
        {
            display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: null);
            display.OnUpdate(SnapshotBuilder.Empty(SnapshotBuilder.T0.AddSeconds(1)));
            display.OnFinish(SnapshotBuilder.Empty(SnapshotBuilder.T0.AddSeconds(2)));
        }, Throws.Nothing);
        Assert.That(StripAnsi(console.Output), Does.Contain("0 done (total unknown)"));
    }

    [Test]
    public void Ctor_NullConsole_Throws()
    {
        Assert.That(() => new CompactDashboard(null!), Throws.ArgumentNullException);
    }
}
