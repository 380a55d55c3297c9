using System.Text.RegularExpressions;
using AntFlow.Dataflow.Console;
using Spectre.Console;
using Spectre.Console.Testing;
using static AntFlow.Dataflow.Tests.Console.ConsoleTestHelpers;

namespace AntFlow.Dataflow.Tests.Console;

[TestFixture]
public sealed class ProgressDisplayTests
{
    [Test]
    public void BuildRenderable_KnownTotal_ShowsBarCountsRateEtaAndFailures()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().Counts(processed: 115, failed: 3, cancelled: 2).Build();

        string output = Render(ProgressDisplay.BuildRenderable(Frame(snapshot, total: 200, rate: 40.1, eta: TimeSpan.FromSeconds(2))), width: 80);

        Assert.That(output, Does.Contain("120/200 60.0%"));
        Assert.That(output, Does.Contain("40.1 items/s"));
        Assert.That(output, Does.Contain("ETA 00:00:02"));
        Assert.That(output, Does.Contain("3 failed"));
        Assert.That(output, Does.Contain("█").And.Contain("░"), "a partly filled bar");
        Assert.That(NonEmptyLines(output), Has.Length.EqualTo(1), "fits one 80-column line");
    }

    [Test]
    public void BuildRenderable_UnknownTotal_ShowsCountAndRateInsteadOfABar()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().Counts(processed: 120).Build();

        string output = Render(ProgressDisplay.BuildRenderable(Frame(snapshot, total: null, rate: 40.1, elapsed: TimeSpan.FromSeconds(3))));

        Assert.That(output, Does.Contain("120 done"));
        Assert.That(output, Does.Contain("40.1 items/s"));
        Assert.That(output, Does.Contain("elapsed 00:00:03"));
        Assert.That(output, Does.Not.Contain("█").And.Not.Contain("░").And.Not.Contain("ETA"));
    }

    [Test]
    public void BuildRenderable_UnknownRate_ShowsDashes()
    {
        string output = Render(ProgressDisplay.BuildRenderable(Frame(SnapshotBuilder.Empty(), total: 10, rate: null) with { Eta = null }));

        Assert.That(output, Does.Contain("0/10 0.0%").And.Contain("– •").And.Contain("ETA –"));
    }

    [Test]
    public void BuildRenderable_FinalFrame_ShowsAverageRateAndElapsed()
    {
        DashboardSnapshot snapshot = new SnapshotBuilder().Counts(processed: 200).Build();

        string output = Render(ProgressDisplay.BuildRenderable(Frame(snapshot, total: 200, rate: 40, elapsed: TimeSpan.FromSeconds(5), isFinal: true)));

        Assert.That(output, Does.Contain("200/200 100.0%"));
        Assert.That(output, Does.Contain("40.0 items/s avg"));
        Assert.That(output, Does.Contain("finished in 00:00:05"));
        Assert.That(output, Does.Not.Contain("░"), "a full bar");
    }

    [Test]
    public void BuildRenderable_NoUnicode_UsesAsciiBar()
    {
        using TestConsole console = new TestConsole().Width(80).SupportsUnicode(false);
        DashboardSnapshot snapshot = new SnapshotBuilder().Counts(processed: 50).Build();

        console.Write(ProgressDisplay.BuildRenderable(Frame(snapshot, total: 100)));

        Assert.That(console.Output, Does.Contain("#").And.Contain("-").And.Not.Contain("█"));
    }

    [Test]
    public void Ctor_NullConsole_Throws()
    {
        Assert.That(() => new ProgressDisplay(null!), Throws.ArgumentNullException);
    }

    [Test]
    public void OnUpdate_RedirectedOutput_WritesPlainLinesWithRateAndEtaFromSnapshots()
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);
        DashboardSnapshot start = SnapshotBuilder.Empty();

        display.OnStart(new StubPipelineMonitor(start), totalItems: 200);
        DashboardSnapshot now = new SnapshotBuilder().AtSeconds(3).Counts(processed: 117, failed: 3).Build();
        display.OnUpdate(now);

        Assert.That(HasEscapeCodes(console.Output), Is.False);
        string[] lines = NonEmptyLines(console.Output);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[0], Is.EqualTo($"[{Clock(start.Timestamp)}] Started: 200 items"));
        Assert.That(lines[1], Is.EqualTo($"[{Clock(now.Timestamp)}] 120/200 done (60.0%), 3 failed, 40.0 items/s, ETA 00:00:02"));
    }

    [Test]
    public void OnUpdate_RedirectedOutputFastUpdates_WritesAtMostOneLinePerSecond()
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 100);

        foreach (double seconds in new[] { 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25 })
        {
            display.OnUpdate(new SnapshotBuilder().AtSeconds(seconds).Counts(processed: (long)(seconds * 10)).Build());
        }

        string[] progressLines = NonEmptyLines(console.Output).Where(l => l.Contains("done", StringComparison.Ordinal)).ToArray();
        Assert.That(progressLines, Has.Length.EqualTo(3), "lines at 0.25 s, 1.25 s and 2.25 s only");
        Assert.That(progressLines[1], Does.Contain("12/100"));
    }

    [Test]
    public void OnUpdate_RedirectedOutputJitteryOneSecondTimer_WritesEveryTick()
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 100);

        foreach (double seconds in new[] { 1.0, 2.01, 2.99, 4.0, 4.98 })
        {
            display.OnUpdate(new SnapshotBuilder().AtSeconds(seconds).Counts(processed: (long)seconds).Build());
        }

        Assert.That(NonEmptyLines(console.Output).Count(l => l.Contains("done", StringComparison.Ordinal)), Is.EqualTo(5));
    }

    [Test]
    public void OnUpdate_UnknownTotal_WritesCountRateAndElapsed()
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: null);

        DashboardSnapshot now = new SnapshotBuilder().AtSeconds(2).Counts(processed: 50).Build();
        display.OnUpdate(now);

        string[] lines = NonEmptyLines(console.Output);
        Assert.That(lines[0], Does.EndWith("Started: unknown number of items"));
        Assert.That(lines[1], Is.EqualTo($"[{Clock(now.Timestamp)}] 50 done, 0 failed, 25.0 items/s, elapsed 00:00:02"));
    }

    [Test]
    public void OnFinish_RedirectedOutput_PrintsSummaryLineWithoutEscapeCodes()
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 200);

        DashboardSnapshot final = new SnapshotBuilder().AtSeconds(5).Counts(processed: 195, failed: 3, skipped: 4, cancelled: 2).Build();
        display.OnFinish(final);

        Assert.That(HasEscapeCodes(console.Output), Is.False);
        Assert.That(
            NonEmptyLines(console.Output)[^1],
            Is.EqualTo($"[{Clock(final.Timestamp)}] Finished: 200/200 done (100.0%) in 00:00:05: " +
                "195 processed, 3 failed, 2 cancelled, 4 skipped, 40.0 items/s"));
    }

    [Test]
    public void OnUpdate_Terminal_RedrawsTheLineInPlace()
    {
        using TestConsole console = TerminalConsole();
        var display = new ProgressDisplay(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 100);

        display.OnUpdate(new SnapshotBuilder().AtSeconds(1).Counts(processed: 10).Build());
        display.OnUpdate(new SnapshotBuilder().AtSeconds(2).Counts(processed: 20).Build());

        string output = console.Output;
        Assert.That(CountOf(output, Esc + "[1A" + Esc + "[0J"), Is.EqualTo(2), "each update moves back over the one-line view and erases it");
        Assert.That(output, Does.Contain("10/100 10.0%").And.Contain("20/100 20.0%"));
        Assert.That(output, Does.Not.Contain("Started:"), "no log lines on a terminal");
    }

    [Test]
    public void OnFinish_Terminal_ErasesTheLiveLineAndPrintsTheFinalOnce()
    {
        using TestConsole console = TerminalConsole();
        var display = new ProgressDisplay(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 100);
        display.OnUpdate(new SnapshotBuilder().AtSeconds(1).Counts(processed: 50).Build());

        display.OnFinish(new SnapshotBuilder().AtSeconds(2).Counts(processed: 100).Build());

        string output = console.Output;
        string afterLastErase = StripAnsi(output[(output.LastIndexOf(Esc + "[0J", StringComparison.Ordinal) + 4)..]);
        Assert.That(afterLastErase, Does.Contain("100/100 100.0%").And.Contain("finished in 00:00:02"));
        Assert.That(afterLastErase, Does.Contain("50.0 items/s avg"));
        Assert.That(CountOf(output, "finished in"), Is.EqualTo(1));
    }

    [Test]
    public void OnUpdate_AfterFinish_IsIgnored()
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 10);
        display.OnFinish(new SnapshotBuilder().AtSeconds(1).Counts(processed: 10).Build());
        string before = console.Output;

        display.OnUpdate(new SnapshotBuilder().AtSeconds(5).Counts(processed: 10).Build());
        display.OnFinish(new SnapshotBuilder().AtSeconds(6).Counts(processed: 10).Build());

        Assert.That(console.Output, Is.EqualTo(before));
    }

    [Test]
    public void OnStart_AfterFinish_StartsANewRun()
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 10);
        display.OnFinish(new SnapshotBuilder().AtSeconds(1).Counts(processed: 10).Build());

        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty(SnapshotBuilder.T0.AddMinutes(1))), totalItems: 4);
        display.OnUpdate(new SnapshotBuilder().At(SnapshotBuilder.T0.AddMinutes(1).AddSeconds(2)).Counts(processed: 2).Build());

        Assert.That(NonEmptyLines(console.Output)[^1], Does.EndWith("2/4 done (50.0%), 0 failed, 1.0 items/s, ETA 00:00:02"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void OnUpdate_EmptySnapshot_DoesNotThrow(bool terminal)
    {
        using TestConsole console = terminal ? TerminalConsole() : RedirectedConsole();
        var display = new ProgressDisplay(console);

        Assert.That(() =>
        {
            display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 0);
            display.OnUpdate(SnapshotBuilder.Empty(SnapshotBuilder.T0.AddSeconds(1)));
            display.OnUpdate(null!);
            display.OnFinish(SnapshotBuilder.Empty(SnapshotBuilder.T0.AddSeconds(2)));
        }, Throws.Nothing);
        Assert.That(console.Output, Does.Contain("0/0"));
    }

    [Test]
    public void OnUpdate_WithoutOnStart_StillShowsProgress()
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);

        display.OnUpdate(new SnapshotBuilder().Counts(processed: 3).Build());

        Assert.That(NonEmptyLines(console.Output)[^1], Does.EndWith("3 done, 0 failed, –, elapsed 00:00:00"));
    }

    [Test]
    public void OnStart_MonitorThrows_StillDisplaysUpdates()
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);

        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()) { ThrowOnQuery = true }, totalItems: 10);
        display.OnUpdate(new SnapshotBuilder().Counts(processed: 3).Build());

        Assert.That(NonEmptyLines(console.Output)[^1], Does.Contain("3/10 done (30.0%)"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void OnUpdate_ConsoleThrows_DoesNotThrowAndLeavesTheConsoleAsItWas(bool terminal)
    {
        using TestConsole inner = terminal ? TerminalConsole() : RedirectedConsole();
        var display = new ProgressDisplay(new ThrowingConsole(inner));

        Assert.That(() =>
        {
            display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 10);
            display.OnUpdate(new SnapshotBuilder().AtSeconds(1).Counts(processed: 3).Build());
            display.OnFinish(new SnapshotBuilder().AtSeconds(2).Counts(processed: 10).Build());
        }, Throws.Nothing);

        inner.WriteLine("later output");
        Assert.That(inner.Output, Is.EqualTo("later output" + Environment.NewLine), "no live view left hooked into the console");
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task OnUpdate_OverlappingOnFinish_NeverThrowsAndTheSummaryComesLast(CancellationToken cancellationToken)
    {
        using TestConsole console = RedirectedConsole();
        var display = new ProgressDisplay(console);
        display.OnStart(new StubPipelineMonitor(SnapshotBuilder.Empty()), totalItems: 1000);
        using var go = new SemaphoreSlim(0);

        Task[] updaters = Enumerable.Range(0, 4).Select(t => Task.Run(
            async () =>
            {
                await go.WaitAsync(cancellationToken);
                for (int i = 1; i <= 200; i++)
                {
                    display.OnUpdate(new SnapshotBuilder().AtSeconds((i * 4) + t).Counts(processed: i).Build());
                }
            },
            cancellationToken)).ToArray();
        Task finisher = Task.Run(
            async () =>
            {
                await go.WaitAsync(cancellationToken);
                display.OnFinish(new SnapshotBuilder().AtSeconds(100).Counts(processed: 1000).Build());
            },
            cancellationToken);

        go.Release(5);
        await Task.WhenAll(updaters.Append(finisher));

        string[] lines = NonEmptyLines(console.Output);
        Assert.That(lines[^1], Does.Contain("Finished: 1,000/1,000 done"));
        Assert.That(lines.Count(l => l.Contains("Finished", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(lines.All(l => Regex.IsMatch(l, @"^\[\d\d:\d\d:\d\d\] ")), Is.True, "no torn lines");
    }

    /// <summary>A console whose output is broken, like a closed pipe.</summary>
    private sealed class ThrowingConsole(TestConsole inner) : IAnsiConsole
    {
        public Profile Profile => inner.Profile;

        public IAnsiConsoleCursor Cursor => inner.Cursor;

        public IAnsiConsoleInput Input => inner.Input;

        public IExclusivityMode ExclusivityMode => inner.ExclusivityMode;

        public Spectre.Console.Rendering.RenderPipeline Pipeline => inner.Pipeline;

        public void Clear(bool home) => throw new IOException("broken pipe");

        public void Write(Spectre.Console.Rendering.IRenderable renderable) => throw new IOException("broken pipe");

        public void WriteAnsi(Action<AnsiWriter> action) => throw new IOException("broken pipe");
    }
}
