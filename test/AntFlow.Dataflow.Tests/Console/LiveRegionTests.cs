using AntFlow.Dataflow.Console.Rendering;
using Spectre.Console;
using Spectre.Console.Testing;
using static AntFlow.Dataflow.Tests.Console.ConsoleTestHelpers;

namespace AntFlow.Dataflow.Tests.Console;

[TestFixture]
public sealed class LiveRegionTests
{
    [Test]
    public void Update_Twice_RewindsOverTheLinesDrawnBefore()
    {
        using TestConsole console = TerminalConsole();
        var region = new LiveRegion(console);
        region.Attach();

        region.Update(new Text("one\ntwo\nthree"));
        region.Update(new Text("four"));

        string output = console.Output;
        Assert.That(CountOf(output, Esc + "[3A" + Esc + "[0J"), Is.EqualTo(1));
        Assert.That(output.IndexOf("four", StringComparison.Ordinal), Is.GreaterThan(output.IndexOf(Esc + "[3A", StringComparison.Ordinal)));
    }

    [Test]
    public void Write_WhileAttached_OtherOutputGoesAboveTheRegion()
    {
        using TestConsole console = TerminalConsole();
        var region = new LiveRegion(console);
        region.Attach();
        region.Update(new Text("LIVE"));

        console.WriteLine("log entry");

        string output = console.Output;
        int rewind = output.IndexOf(Esc + "[1A" + Esc + "[0J", StringComparison.Ordinal);
        int log = output.IndexOf("log entry", StringComparison.Ordinal);
        int redraw = output.LastIndexOf("LIVE", StringComparison.Ordinal);
        Assert.That(rewind, Is.GreaterThan(0));
        Assert.That(log, Is.GreaterThan(rewind));
        Assert.That(redraw, Is.GreaterThan(log), "the region is drawn again below the new output");
    }

    [Test]
    public void Detach_AfterUpdates_ErasesTheRegionAndStopsRedrawing()
    {
        using TestConsole console = TerminalConsole();
        var region = new LiveRegion(console);
        region.Attach();
        region.Update(new Text("a\nb"));

        region.Detach();
        console.WriteLine("after");

        string output = console.Output;
        Assert.That(output, Does.Contain(Esc + "[2A" + Esc + "[0J"));
        Assert.That(output[output.IndexOf("after", StringComparison.Ordinal)..], Does.Not.Contain("a\n").And.Not.Contain(Esc + "[2A"));
        Assert.That(CountOf(output, "a\n") + CountOf(output, "a\r\n"), Is.EqualTo(1));
    }
}
