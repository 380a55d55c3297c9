using AntFlow.Dataflow.Console;
using Spectre.Console.Testing;
using static AntFlow.Dataflow.Tests.Console.ConsoleTestHelpers;

namespace AntFlow.Dataflow.Tests.Console;

[TestFixture]
public sealed class DetailedDashboardTests
{
    [Test]
    public void BuildRenderable_Sample_ShowsEveryStageWithQueuedRunningDoneFailedAndAverageTime()
    {
        string output = Render(DetailedDashboard.BuildRenderable(Frame(SnapshotBuilder.Sample().Build())));

        string[] lines = NonEmptyLines(output);
        // Fetch: 2 busy of 2 workers, queued 30, running 2, done 150, failed 1, (40 s + 35.5 s) / 151 items = 500 ms.
        Assert.That(lines, Has.Some.Match(@"│ Fetch\s+│\s+2/2 │\s+30 │\s+2 │\s+150 │\s+1 │\s+500 ms │"));
        // Save: idle, queued 25, running 1, done 112, failed 2, 11.4 s / 114 items = 100 ms.
        Assert.That(lines, Has.Some.Match(@"│ Save\s+│\s+0/1 │\s+25 │\s+1 │\s+112 │\s+2 │\s+100 ms │"));
        Assert.That(output, Does.Contain("Queued").And.Contain("Running").And.Contain("Avg time"));
    }

    [Test]
    public void BuildRenderable_Sample_ShowsWorkerPerformance()
    {
        string output = Render(DetailedDashboard.BuildRenderable(Frame(SnapshotBuilder.Sample().Build())));

        string[] lines = NonEmptyLines(output);
        Assert.That(lines, Has.Some.Match(@"│ Fetch-W0\s+│\s+80 │\s+0 │\s+500 ms │\s+100\.0% │"));
        Assert.That(lines, Has.Some.Match(@"│ Fetch-W1\s+│\s+70 │\s+1 │\s+500 ms │\s+98\.6% │"));
        Assert.That(lines, Has.Some.Match(@"│ Save-W0\s+│\s+112 │\s+2 │\s+100 ms │\s+98\.2% │"));
    }

    [Test]
    public void BuildRenderable_Sample_StartsWithTheProgressLine()
    {
        string output = Render(DetailedDashboard.BuildRenderable(Frame(SnapshotBuilder.Sample().Build(), total: 200)));

        Assert.That(NonEmptyLines(output)[0], Does.Contain("120/200 60.0%").And.Contain("40.1 items/s").And.Contain("ETA 00:00:02"));
    }

    [Test]
    public void BuildRenderable_WorkerWithoutItems_ShowsDashesForTimeAndSuccess()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().Stage("Fetch").IdleWorker("Fetch-W0", "Fetch").Build();

        string[] lines = NonEmptyLines(Render(DetailedDashboard.BuildRenderable(Frame(snapshot))));

        Assert.That(lines, Has.Some.Match(@"│ Fetch-W0\s+│\s+0 │\s+0 │\s+– │\s+– │"));
        Assert.That(lines, Has.Some.Match(@"│ Fetch\s+│\s+0/1 │\s+0 │\s+0 │\s+0 │\s+0 │\s+– │"));
    }

    [Test]
    public void BuildRenderable_ManyWorkers_ListsThemByStageAndNumber()
    {
        var builder = new SnapshotBuilder().Stage("Fetch").Stage("Save");
        foreach (int i in new[] { 10, 2, 0, 1 })
        {
            builder.IdleWorker($"Fetch-W{i}", "Fetch");
        }

        builder.IdleWorker("Save-W0", "Save");

        string output = Render(DetailedDashboard.BuildRenderable(Frame(builder.Build())));

        int[] positions = new[] { "Fetch-W0", "Fetch-W1", "Fetch-W2", "Fetch-W10", "Save-W0" }
            .Select(w => output.IndexOf("│ " + w + " ", StringComparison.Ordinal))
            .ToArray();
        Assert.That(positions, Is.All.GreaterThan(0));
        Assert.That(positions, Is.Ordered);
    }

    [Test]
    public void OnStart_PipelineOrder_IsUsedWhateverTheSnapshotOrder()
    {
        using TestConsole console = RedirectedConsole();
        var display = new DetailedDashboard(console);

        // The snapshot lists Save first; the pipeline says Fetch comes first.
        DashboardSnapshot snapshot = new SnapshotBuilder()
            .Stage("Save", completed: 1)
            .Stage("Fetch", completed: 2)
            .IdleWorker("Save-W0", "Save", processed: 1)
            .IdleWorker("Fetch-W0", "Fetch", processed: 2)
            .Counts(processed: 1)
            .Build();
        var names = new Dictionary<string, IReadOnlyList<string>> { ["Fetch"] = ["Fetch-W0"], ["Save"] = ["Save-W0"] };
        display.OnStart(new StubPipelineMonitor(snapshot, names), totalItems: 2);
        display.OnFinish(snapshot);

        string output = console.Output;
        Assert.That(output, Does.Contain("Started: 2 items, 2 stages (Fetch, Save)"));
        Assert.That(output.IndexOf("│ Fetch ", StringComparison.Ordinal), Is.LessThan(output.IndexOf("│ Save ", StringComparison.Ordinal)));
        Assert.That(output.IndexOf("│ Fetch-W0 ", StringComparison.Ordinal), Is.LessThan(output.IndexOf("│ Save-W0 ", StringComparison.Ordinal)));
    }

    [Test]
    public void BuildRenderable_NamesWithMarkupCharacters_RenderLiterally()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().Stage("[red]Parse[/]").IdleWorker("[red]Parse[/]-W0", "[red]Parse[/]", processed: 1).Build();

        string output = Render(DetailedDashboard.BuildRenderable(Frame(snapshot)));

        Assert.That(output, Does.Contain("[red]Parse[/]-W0"));
    }

    [Test]
    public void BuildRenderable_EmptySnapshot_SaysThereIsNothingYet()
    {
        string output = Render(DetailedDashboard.BuildRenderable(Frame(SnapshotBuilder.Empty(), total: null)), width: 80);

        Assert.That(output, Does.Contain("no stages yet").And.Contain("no workers yet"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void OnUpdate_EmptySnapshot_DoesNotThrow(bool terminal)
    {
        using TestConsole console = terminal ? TerminalConsole() : RedirectedConsole();
        var display = new DetailedDashboard(console);

        Assert.That(() =>
        {
            display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 0);
            display.OnUpdate(SnapshotBuilder.Empty(SnapshotBuilder.T0.AddSeconds(1)));
            display.OnFinish(SnapshotBuilder.Empty(SnapshotBuilder.T0.AddSeconds(2)));
        }, Throws.Nothing);
        Assert.That(StripAnsi(console.Output), Does.Contain("no stages yet"));
    }

    [Test]
    public void OnUpdate_RedirectedOutput_WritesPlainLinesNotTables()
    {
        using TestConsole console = RedirectedConsole();
        var display = new DetailedDashboard(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 200);

        display.OnUpdate(SnapshotBuilder.Sample(atSeconds: 3).Build());

        Assert.That(HasEscapeCodes(console.Output), Is.False);
        Assert.That(NonEmptyLines(console.Output)[^1], Does.EndWith("120/200 done (60.0%), 3 failed, 40.0 items/s, ETA 00:00:02"));
        Assert.That(console.Output, Does.Not.Contain("Stages"));
    }

    [Test]
    public void OnFinish_Terminal_PrintsTheFinalTablesOnce()
    {
        using TestConsole console = TerminalConsole();
        var display = new DetailedDashboard(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 200);
        display.OnUpdate(SnapshotBuilder.Sample(atSeconds: 3).Build());

        display.OnFinish(SnapshotBuilder.Sample(atSeconds: 4).Build());

        string output = console.Output;
        string afterLastErase = StripAnsi(output[(output.LastIndexOf(Esc + "[0J", StringComparison.Ordinal) + 4)..]);
        Assert.That(afterLastErase, Does.Contain("Stages").And.Contain("Worker performance").And.Contain("finished in 00:00:04"));
        Assert.That(CountOf(StripAnsi(output), "finished in"), Is.EqualTo(1));
    }

    [Test]
    public void Ctor_NullConsole_Throws()
    {
        Assert.That(() => new DetailedDashboard(null!), Throws.ArgumentNullException);
    }
}
