using AntFlow.Dataflow.Console;
using Spectre.Console.Testing;
using static AntFlow.Dataflow.Tests.Console.ConsoleTestHelpers;

namespace AntFlow.Dataflow.Tests.Console;

[TestFixture]
public sealed class FullDashboardTests
{
    [Test]
    public void BuildRenderable_Sample_ShowsSummaryStagesErrorsAndWorkers()
    {
        string output = Render(FullDashboard.BuildRenderable(Frame(SnapshotBuilder.Sample().Build())));

        Assert.That(output, Does.Contain("120/200 done (60.0%)").And.Contain("Rate 40.1 items/s").And.Contain("In flight 60"));
        Assert.That(output, Does.Contain("Stages").And.Contain("│ Fetch ").And.Contain("│ Save "));
        Assert.That(output, Does.Contain("Errors (2)"));
        Assert.That(output, Does.Contain("Workers (2 busy of 3)"));
    }

    [Test]
    public void BuildRenderable_BusyWorker_ShowsItemTaskAndTimeOnItem()
    {
        string[] lines = NonEmptyLines(Render(FullDashboard.BuildRenderable(Frame(SnapshotBuilder.Sample().Build()))));

        // Fetch-W0 started item 42 2.5 s before the snapshot; it reports a custom status text.
        Assert.That(lines, Has.Some.Match(@"│ ● Fetch-W0 │ 42\s+│ polling batch 3/10 │\s+2\.50 s │\s+80 │\s+0 │\s+500 ms │\s+100\.0% │"));
        Assert.That(lines, Has.Some.Match(@"│ ● Fetch-W1 │ 43\s+│ download\s+│\s+250 ms │\s+70 │\s+1 │\s+500 ms │\s+98\.6% │"));
    }

    [Test]
    public void BuildRenderable_IdleWorker_ShowsIdleWithoutItemOrTime()
    {
        string[] lines = NonEmptyLines(Render(FullDashboard.BuildRenderable(Frame(SnapshotBuilder.Sample().Build()))));

        Assert.That(lines, Has.Some.Match(@"│ ○ Save-W0\s+│\s+│ idle\s+│\s+│\s+112 │\s+2 │\s+100 ms │\s+98\.2% │"));
    }

    [Test]
    public void BuildRenderable_Errors_ShowIdStageTypeAttemptsAndMessageNewestFirst()
    {
        string output = Render(FullDashboard.BuildRenderable(Frame(SnapshotBuilder.Sample().Build())));

        string[] lines = NonEmptyLines(output);
        Assert.That(lines, Has.Some.Match(@"│\s+19\s+│ Save\s+│ IOException\s+│\s+1 │ Disk full"));
        Assert.That(lines, Has.Some.Match(@"│\s+7\s+│ Fetch │ HttpRequestException │\s+3 │ Response status code does not indicate success: 503\."));
        Assert.That(output.IndexOf("Disk full", StringComparison.Ordinal), Is.LessThan(output.IndexOf("503", StringComparison.Ordinal)));
        Assert.That(output, Does.Contain("By type: HttpRequestException ×1, IOException ×1"));
    }

    [Test]
    public void BuildRenderable_ManyErrors_ShowsOnlyTheLastTen()
    {
        var builder = new SnapshotBuilder().Counts(processed: 0, failed: 15);
        for (int i = 0; i < 15; i++)
        {
            builder.Error($"item-{i}", "Fetch", i % 3 == 0 ? "TimeoutException" : "HttpRequestException", $"failure number {i}");
        }

        string output = Render(FullDashboard.BuildRenderable(Frame(builder.Build())));

        Assert.That(output, Does.Contain("Recent errors (last 10 of 15)"));
        Assert.That(output, Does.Contain("item-14").And.Contain("item-5"));
        Assert.That(output, Does.Not.Contain("item-4 ").And.Not.Contain("failure number 4"));
        Assert.That(output, Does.Contain("By type: HttpRequestException ×10, TimeoutException ×5"));
    }

    [Test]
    public void BuildRenderable_MultiLineMessage_ShowsOnOneLine()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder()
            .Error(1L, "Parse", "FormatException", "Unexpected token\n  at line 3\n  at column 7")
            .Build();

        string output = Render(FullDashboard.BuildRenderable(Frame(snapshot)), width: 160);

        Assert.That(output, Does.Contain("Unexpected token at line 3 at column 7"));
    }

    [Test]
    public void BuildRenderable_NoErrors_SaysSo()
    {
        string output = Render(FullDashboard.BuildRenderable(Frame(new SnapshotBuilder().Stage("Fetch").Build())));

        Assert.That(output, Does.Contain("No errors."));
    }

    [Test]
    public void BuildRenderable_EmptySnapshotOnNarrowConsole_RendersPlaceholders()
    {
        string output = Render(FullDashboard.BuildRenderable(Frame(SnapshotBuilder.Empty(), total: null)), width: 60);

        Assert.That(output, Does.Contain("0 done (total unknown)").And.Contain("no stages yet").And.Contain("No errors.").And.Contain("no workers yet"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void OnUpdate_EmptySnapshot_DoesNotThrow(bool terminal)
    {
        using TestConsole console = terminal ? TerminalConsole() : RedirectedConsole();
        var display = new FullDashboard(console);

        Assert.That(() =>
        {
            display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: null);
            display.OnUpdate(SnapshotBuilder.Empty(SnapshotBuilder.T0.AddSeconds(1)));
            display.OnFinish(SnapshotBuilder.Empty(SnapshotBuilder.T0.AddSeconds(2)));
        }, Throws.Nothing);
        Assert.That(StripAnsi(console.Output), Does.Contain("no workers yet"));
    }

    [Test]
    public void OnUpdate_TallerThanTheTerminal_CropsTheLiveViewButTheSummaryShowsAll()
    {
        using TestConsole console = TerminalConsole(width: 120, height: 30);
        var display = new FullDashboard(console);
        var builder = new SnapshotBuilder().AtSeconds(1).Stage("Work", running: 30);
        for (int i = 0; i < 30; i++)
        {
            builder.BusyWorker($"Work-W{i}", "Work", itemId: (long)i, task: "step", onItemFor: TimeSpan.FromSeconds(1));
        }

        DashboardSnapshot snapshot = builder.Build();
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 30);

        display.OnUpdate(snapshot);
        string output = console.Output;
        string live = StripAnsi(output[(output.LastIndexOf(Esc + "[0J", StringComparison.Ordinal) + 4)..]);
        Assert.That(live, Does.Contain("more lines (enlarge the terminal to see them)"));
        Assert.That(live, Does.Contain("Work-W0").And.Not.Contain("Work-W29"));
        Assert.That(NonEmptyLines(live), Has.Length.EqualTo(29), "one line short of the terminal height, for the cursor");

        display.OnFinish(snapshot with { Timestamp = snapshot.Timestamp.AddSeconds(1) });
        Assert.That(StripAnsi(console.Output), Does.Contain("Work-W29"));
    }

    [Test]
    public void OnFinish_RedirectedOutput_PrintsSummaryLineThenTheWholeDashboardWithoutEscapeCodes()
    {
        using TestConsole console = RedirectedConsole(width: 120);
        var display = new FullDashboard(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 200);

        display.OnFinish(SnapshotBuilder.Sample(atSeconds: 3).Build());

        string output = console.Output;
        Assert.That(HasEscapeCodes(output), Is.False);
        Assert.That(output, Does.Contain("Finished: 120/200 done (60.0%) in 00:00:03"));
        Assert.That(output, Does.Contain("Pipeline finished").And.Contain("Errors (2)").And.Contain("Fetch-W0").And.Contain("Disk full"));
    }

    [Test]
    public void Ctor_NullConsole_Throws()
    {
        Assert.That(() => new FullDashboard(null!), Throws.ArgumentNullException);
    }
}
