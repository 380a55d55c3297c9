using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>
/// Keeps one renderable drawn at the bottom of an ANSI terminal and redraws it in place. It is a render hook:
/// every write through the console (ours or anyone else's) first moves the cursor back to the top of the
/// region and erases it, then writes, then draws the region again below, so other output scrolls above it.
/// </summary>
/// <remarks>
/// Lock order: the console's own render lock is taken first (Spectre calls <see cref="Process"/> under it),
/// then <see cref="_gate"/>. Nothing here calls back into the console while holding <see cref="_gate"/>.
/// </remarks>
internal sealed class LiveRegion : IRenderHook
{
    private const string Escape = "\u001b[";

    private readonly IAnsiConsole _console;
    private readonly Lock _gate = new();
    private IRenderable? _target; // protected by _gate
    private int _height; // protected by _gate: lines drawn last time, the cursor sits on the line below them
    private bool _attached; // protected by _gate

    /// <summary>Initializes a new instance of the <see cref="LiveRegion"/> class.</summary>
    /// <param name="console">The console to draw on.</param>
    public LiveRegion(IAnsiConsole console) => _console = console;

    /// <summary>Starts drawing: hooks into the console's render pipeline and hides the cursor.</summary>
    public void Attach()
    {
        lock (_gate)
        {
            if (_attached)
            {
                return;
            }

            _attached = true;
        }

        _console.Pipeline.Attach(this);
        _console.Cursor.Hide();
    }

    /// <summary>Replaces what the region shows and redraws it now.</summary>
    /// <param name="target">The new content.</param>
    public void Update(IRenderable target)
    {
        lock (_gate)
        {
            _target = target;
        }

        // An empty write goes through the pipeline, which redraws the region.
        _console.Write(new ControlCode(string.Empty));
    }

    /// <summary>Erases the region and stops drawing; later writes go to the console unchanged.</summary>
    public void Detach()
    {
        lock (_gate)
        {
            if (!_attached)
            {
                return;
            }

            _target = null;
        }

        try
        {
            // With no target the next pass only erases what was drawn; the hook stays attached until then so a
            // concurrent write cannot land below the old region and be erased with it.
            _console.Write(new ControlCode(string.Empty));
        }
        finally
        {
            // Even when the output is broken, stop intercepting the console's writes.
            _console.Pipeline.Detach(this);
            lock (_gate)
            {
                _attached = false;
                _height = 0;
            }

            _console.Cursor.Show();
        }
    }

    /// <inheritdoc/>
    public IEnumerable<IRenderable> Process(RenderOptions options, IEnumerable<IRenderable> renderables)
    {
        var result = new List<IRenderable>();
        lock (_gate)
        {
            if (_height > 0)
            {
                // Back to column 0 of the region's first line, then erase to the end of the screen.
                result.Add(new ControlCode("\r" + Escape + _height.ToString(CultureInfo.InvariantCulture) + "A" + Escape + "0J"));
                _height = 0;
            }

            result.AddRange(renderables);
            if (_target is not null)
            {
                result.Add(new Frame(this, _target));
            }
        }

        return result;
    }

    private void SetHeight(int height)
    {
        lock (_gate)
        {
            _height = height;
        }
    }

    /// <summary>The region's content, cropped to the terminal height and followed by a line break.</summary>
    private sealed class Frame(LiveRegion owner, IRenderable content) : IRenderable
    {
        public Measurement Measure(RenderOptions options, int maxWidth) => new(maxWidth, maxWidth);

        public IEnumerable<Segment> Render(RenderOptions options, int maxWidth)
        {
            List<SegmentLine> lines = Segment.SplitLines(content.Render(options, maxWidth), maxWidth);
            while (lines.Count > 0 && lines[^1].Count == 0)
            {
                lines.RemoveAt(lines.Count - 1);
            }

            // A region taller than the screen cannot be redrawn in place (the cursor cannot move above the
            // top), so keep one line free for the cursor and say what was left out.
            int maxLines = Math.Max(1, options.ConsoleSize.Height - 1);
            if (lines.Count > maxLines)
            {
                int hidden = lines.Count - (maxLines - 1);
                lines = lines.Take(maxLines - 1).ToList();
                var note = new SegmentLine
                {
                    new Segment(
                        DisplayFormat.SingleLine($"… {hidden} more lines (enlarge the terminal to see them)", maxWidth),
                        new Style(Color.Grey)),
                };
                lines.Add(note);
            }

            var segments = new List<Segment>();
            foreach (SegmentLine line in lines)
            {
                segments.AddRange(line);
                segments.Add(Segment.LineBreak);
            }

            owner.SetHeight(lines.Count);
            return segments;
        }
    }
}
