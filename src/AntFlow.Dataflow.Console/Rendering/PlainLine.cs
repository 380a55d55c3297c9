using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>
/// A line of text written as is, never wrapped at the console width: log lines stay one line each, whatever
/// width the console reports for a redirected output.
/// </summary>
internal sealed class PlainLine(string text) : IRenderable
{
    /// <inheritdoc/>
    public Measurement Measure(RenderOptions options, int maxWidth) => new(text.Length, text.Length);

    /// <inheritdoc/>
    public IEnumerable<Segment> Render(RenderOptions options, int maxWidth) => [new Segment(text), Segment.LineBreak];
}
