using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>
/// A horizontal bar for a fraction 0..1 that takes the width it is given, up to <see cref="MaxWidth"/>.
/// Filled and empty cells use different characters, so the bar still reads without colours (logs, dumb terminals).
/// </summary>
internal sealed class ProgressBarRenderable : IRenderable
{
    /// <summary>The narrowest the bar gets before the layout wraps instead.</summary>
    public const int MinWidth = 10;

    private readonly double _fraction;
    private readonly Style _filledStyle;
    private readonly Style _emptyStyle;

    /// <summary>Initializes a new instance of the <see cref="ProgressBarRenderable"/> class.</summary>
    /// <param name="fraction">The filled fraction, clamped to 0..1.</param>
    /// <param name="filledStyle">The style of the filled part.</param>
    public ProgressBarRenderable(double fraction, Style filledStyle)
    {
        _fraction = double.IsFinite(fraction) ? Math.Clamp(fraction, 0, 1) : 0;
        _filledStyle = filledStyle;
        _emptyStyle = new Style(Color.Grey);
    }

    /// <summary>Gets or sets the widest the bar gets.</summary>
    public int MaxWidth { get; init; } = 40;

    /// <inheritdoc/>
    public Measurement Measure(RenderOptions options, int maxWidth)
    {
        int max = Math.Min(MaxWidth, maxWidth);
        return new Measurement(Math.Min(MinWidth, max), max);
    }

    /// <inheritdoc/>
    public IEnumerable<Segment> Render(RenderOptions options, int maxWidth)
    {
        int width = Math.Max(0, Math.Min(MaxWidth, maxWidth));
        int filled = (int)Math.Round(_fraction * width, MidpointRounding.ToZero);
        if (filled == width && _fraction < 1 && width > 0)
        {
            // Never show a full bar before the very end.
            filled = width - 1;
        }

        (char full, char empty) = options.Unicode ? ('█', '░') : ('#', '-');
        if (filled > 0)
        {
            yield return new Segment(new string(full, filled), _filledStyle);
        }

        if (width - filled > 0)
        {
            yield return new Segment(new string(empty, width - filled), _emptyStyle);
        }
    }
}
