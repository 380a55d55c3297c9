using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>
/// A progress bar followed by text on one line. The text keeps its natural width and the bar takes what is left
/// (between <see cref="ProgressBarRenderable.MinWidth"/> and <see cref="MaxBarWidth"/> cells), so the line fits
/// an 80-column terminal instead of wrapping.
/// </summary>
internal sealed class BarLine : IRenderable
{
    /// <summary>The widest the bar gets.</summary>
    public const int MaxBarWidth = 40;

    private readonly double _fraction;
    private readonly Style _filledStyle;
    private readonly IRenderable _text;

    /// <summary>Initializes a new instance of the <see cref="BarLine"/> class.</summary>
    /// <param name="fraction">The filled fraction, 0..1.</param>
    /// <param name="filledStyle">The style of the bar's filled part.</param>
    /// <param name="text">What follows the bar.</param>
    public BarLine(double fraction, Style filledStyle, IRenderable text)
    {
        _fraction = fraction;
        _filledStyle = filledStyle;
        _text = text;
    }

    /// <inheritdoc/>
    public Measurement Measure(RenderOptions options, int maxWidth)
    {
        Measurement text = _text.Measure(options, maxWidth);
        return new Measurement(
            Math.Min(maxWidth, ProgressBarRenderable.MinWidth + 1 + text.Min),
            Math.Min(maxWidth, MaxBarWidth + 1 + text.Max));
    }

    /// <inheritdoc/>
    public IEnumerable<Segment> Render(RenderOptions options, int maxWidth)
    {
        Measurement text = _text.Measure(options, maxWidth);
        int barWidth = Math.Clamp(maxWidth - text.Max - 1, ProgressBarRenderable.MinWidth, MaxBarWidth);
        if (barWidth + 1 >= maxWidth)
        {
            // Too narrow for both: the numbers matter more than the bar.
            return _text.Render(options, maxWidth);
        }

        var grid = new Grid();
        grid.AddColumn(new GridColumn().Width(barWidth).NoWrap().PadRight(1));
        grid.AddColumn(new GridColumn().PadRight(0));
        grid.AddRow(new ProgressBarRenderable(_fraction, _filledStyle) { MaxWidth = barWidth }, _text);
        return ((IRenderable)grid).Render(options, maxWidth);
    }
}
