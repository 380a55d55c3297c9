using AntFlow.Dataflow.Console;
namespace AntFlow.Dataflow.Tests.Console;
public sealed class ScratchRender
{
    [Test]
    public void Dump()
    {
        var s = SnapshotBuilder.Sample().Build();
        var f = ConsoleTestHelpers.Frame(s, rate: 40.1);
        var sb = new System.Text.StringBuilder();
        foreach (int w in new[] { 80, 120 })
        {
            sb.AppendLine($"==== width {w}");
            sb.AppendLine(ConsoleTestHelpers.Render(ProgressDisplay.BuildRenderable(f), w));
            sb.AppendLine(ConsoleTestHelpers.Render(ProgressDisplay.BuildRenderable(ConsoleTestHelpers.Frame(s, total: null)), w));
            sb.AppendLine(ConsoleTestHelpers.Render(CompactDashboard.BuildRenderable(f), w));
            sb.AppendLine(ConsoleTestHelpers.Render(DetailedDashboard.BuildRenderable(f), w));
            sb.AppendLine(ConsoleTestHelpers.Render(FullDashboard.BuildRenderable(f), w));
            sb.AppendLine(ConsoleTestHelpers.Render(FullDashboard.BuildRenderable(ConsoleTestHelpers.Frame(SnapshotBuilder.Empty())), w));
        }
        File.WriteAllText("/tmp/render.txt", sb.ToString());
    }
}
