using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>
/// Text that never wraps: when the column is narrower than the text it is cut and ends with an ellipsis, so
/// one table row stays one line (long error messages would otherwise make a live view jump in height).
/// </summary>
internal sealed class SingleLineText : IRenderable
{
    /// <summary>The narrowest a column holding this text is squeezed to, so it stays readable.</summary>
    public const int MinWidth = 12;

    private readonly string _text;
    private readonly Style _style;

    /// <summary>Initializes a new instance of the <see cref="SingleLineText"/> class.</summary>
    /// <param name="text">The text; line breaks should already be removed (see <see cref="DisplayFormat.SingleLine"/>).</param>
    /// <param name="style">The text style.</param>
    public SingleLineText(string text, Style? style = null)
    {
        _text = text;
        _style = style ?? Style.Plain;
    }

    /// <inheritdoc/>
    public Measurement Measure(RenderOptions options, int maxWidth)
    {
        int width = new Segment(_text).CellCount();
        return new Measurement(Math.Min(Math.Min(width, MinWidth), maxWidth), Math.Min(width, maxWidth));
    }

    /// <inheritdoc/>
    public IEnumerable<Segment> Render(RenderOptions options, int maxWidth)
    {
        var segment = new Segment(_text, _style);
        if (segment.CellCount() <= maxWidth)
        {
            return [segment];
        }

        if (maxWidth <= 1)
        {
            return maxWidth == 1 ? [new Segment("…", _style)] : [];
        }

        Segment? cut = Segment.Truncate(segment, maxWidth - 1);
        return cut is null ? [new Segment("…", _style)] : [new Segment(cut.Text.TrimEnd() + "…", _style)];
    }
}
