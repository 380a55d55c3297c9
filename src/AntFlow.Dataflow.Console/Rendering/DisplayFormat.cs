using System.Globalization;
using System.Text;

namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>Text formatting shared by every display, so numbers look the same everywhere (invariant culture).</summary>
internal static class DisplayFormat
{
    /// <summary>Shown wherever a value is not known yet (no rate before two snapshots, no ETA without a total).</summary>
    public const string Unknown = "–";

    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>Formats a count with thousands separators: <c>1,234</c>.</summary>
    public static string Count(long value) => value.ToString("N0", Culture);

    /// <summary>Formats a fraction 0..1 as a percentage with one decimal: <c>60.0%</c>.</summary>
    public static string Percent(double? fraction) =>
        fraction is { } f && double.IsFinite(f) ? (f * 100).ToString("0.0", Culture) + "%" : Unknown;

    /// <summary>
    /// Formats a throughput in items per second. Slow pipelines (under 0.1 item/s, typical of long remote jobs)
    /// read better per minute than as <c>0.00 items/s</c>.
    /// </summary>
    public static string Rate(double? itemsPerSecond)
    {
        if (itemsPerSecond is not { } rate || !double.IsFinite(rate) || rate < 0)
        {
            return Unknown;
        }

        if (rate == 0)
        {
            return "0 items/s";
        }

        if (rate < 0.1)
        {
            return (rate * 60).ToString(rate * 60 < 1 ? "0.00" : "0.0", Culture) + " items/min";
        }

        string format = rate >= 100 ? "N0" : rate >= 1 ? "0.0" : "0.00";
        return rate.ToString(format, Culture) + " items/s";
    }

    /// <summary>Formats a span as a clock, <c>00:01:05</c>, with a day prefix past 24 hours: <c>2d 03:00:00</c>.</summary>
    public static string Clock(TimeSpan? span)
    {
        if (span is not { } value)
        {
            return Unknown;
        }

        if (value < TimeSpan.Zero)
        {
            value = TimeSpan.Zero;
        }

        // Round up so a remaining 0.4 s does not read as "00:00:00" while work is still left.
        long totalSeconds = (long)Math.Ceiling(value.TotalSeconds);
        long days = totalSeconds / 86_400;
        long hours = totalSeconds / 3600 % 24;
        long minutes = totalSeconds / 60 % 60;
        long seconds = totalSeconds % 60;
        string clock = string.Create(Culture, $"{hours:00}:{minutes:00}:{seconds:00}");
        return days > 0 ? string.Create(Culture, $"{days}d {clock}") : clock;
    }

    /// <summary>Formats a short duration such as a processing time: <c>850 ms</c>, <c>2.35 s</c>, <c>4m 05s</c>, <c>1h 02m</c>.</summary>
    public static string Duration(TimeSpan? span)
    {
        if (span is not { } value)
        {
            return Unknown;
        }

        if (value < TimeSpan.Zero)
        {
            value = TimeSpan.Zero;
        }

        double ms = value.TotalMilliseconds;
        if (ms < 10)
        {
            return ms.ToString("0.0", Culture) + " ms";
        }

        if (ms < 1000)
        {
            return ms.ToString("0", Culture) + " ms";
        }

        if (value.TotalSeconds < 60)
        {
            return value.TotalSeconds.ToString("0.00", Culture) + " s";
        }

        if (value.TotalMinutes < 60)
        {
            return string.Create(Culture, $"{(int)value.TotalMinutes}m {value.Seconds:00}s");
        }

        return string.Create(Culture, $"{(long)value.TotalHours}h {value.Minutes:00}m");
    }

    /// <summary>Formats a snapshot time as a local wall-clock time for log-style lines: <c>12:00:01</c>.</summary>
    public static string TimeOfDay(DateTimeOffset timestamp) =>
        TimeZoneInfo.ConvertTime(timestamp, TimeZoneInfo.Local).ToString("HH:mm:ss", Culture);

    /// <summary>Formats an item id for a table cell.</summary>
    public static string ItemId(object? id) => id switch
    {
        null => Unknown,
        IFormattable formattable => formattable.ToString(null, Culture),
        _ => id.ToString() ?? Unknown,
    };

    /// <summary>
    /// Makes a message fit one table line: line breaks and tabs become spaces, and text past
    /// <paramref name="maxLength"/> characters ends with an ellipsis.
    /// </summary>
    public static string SingleLine(string? text, int maxLength)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var builder = new StringBuilder(Math.Min(text.Length, maxLength + 1));
        bool lastWasSpace = false;
        foreach (char c in text)
        {
            bool space = char.IsWhiteSpace(c) || char.IsControl(c);
            if (space && lastWasSpace)
            {
                continue;
            }

            builder.Append(space ? ' ' : c);
            lastWasSpace = space;
            if (builder.Length > maxLength)
            {
                break;
            }
        }

        string result = builder.ToString().Trim();
        return result.Length > maxLength ? string.Concat(result.AsSpan(0, Math.Max(0, maxLength - 1)).TrimEnd(), "…") : result;
    }

    /// <summary>
    /// The one-line progress report used when the output is not an interactive terminal, for example
    /// <c>[12:00:01] 120/200 done (60.0%), 3 failed, 40.1 items/s, ETA 00:00:02</c>.
    /// </summary>
    public static string ProgressLine(DisplayFrame frame)
    {
        var line = new StringBuilder();
        line.Append('[').Append(TimeOfDay(frame.Snapshot.Timestamp)).Append("] ");
        AppendDone(line, frame);
        line.Append(", ").Append(Count(frame.Snapshot.PipelineStats.ItemsFailed)).Append(" failed");
        line.Append(", ").Append(Rate(frame.Rate));
        if (frame.Total is not null)
        {
            line.Append(", ETA ").Append(Clock(frame.Eta));
        }
        else
        {
            line.Append(", elapsed ").Append(Clock(frame.Elapsed));
        }

        return line.ToString();
    }

    /// <summary>
    /// The one-line end-of-run report, for example
    /// <c>[12:00:05] Finished: 200/200 done (100.0%) in 00:00:05: 195 processed, 3 failed, 2 cancelled, 4 skipped, 40.0 items/s</c>.
    /// </summary>
    public static string SummaryLine(DisplayFrame frame)
    {
        PipelineStats stats = frame.Snapshot.PipelineStats;
        var line = new StringBuilder();
        line.Append('[').Append(TimeOfDay(frame.Snapshot.Timestamp)).Append("] Finished: ");
        AppendDone(line, frame);
        line.Append(" in ").Append(Clock(frame.Elapsed));
        line.Append(": ").Append(Count(stats.ItemsProcessed)).Append(" processed");
        line.Append(", ").Append(Count(stats.ItemsFailed)).Append(" failed");
        line.Append(", ").Append(Count(stats.ItemsCancelled)).Append(" cancelled");
        line.Append(", ").Append(Count(stats.ItemsSkipped)).Append(" skipped");
        line.Append(", ").Append(Rate(frame.Rate));
        return line.ToString();
    }

    /// <summary>The line printed when a run starts on a non-interactive output.</summary>
    public static string StartLine(DateTimeOffset? timestamp, long? total, IReadOnlyList<string> stages)
    {
        var line = new StringBuilder();
        if (timestamp is { } at)
        {
            line.Append('[').Append(TimeOfDay(at)).Append("] ");
        }

        line.Append("Started: ");
        line.Append(total is { } t ? Count(t) + (t == 1 ? " item" : " items") : "unknown number of items");
        if (stages.Count > 0)
        {
            line.Append(", ").Append(stages.Count).Append(stages.Count == 1 ? " stage (" : " stages (")
                .AppendJoin(", ", stages).Append(')');
        }

        return line.ToString();
    }

    private static void AppendDone(StringBuilder line, DisplayFrame frame)
    {
        line.Append(Count(frame.Done));
        if (frame.Total is { } total)
        {
            line.Append('/').Append(Count(total)).Append(" done (").Append(Percent(frame.Fraction)).Append(')');
        }
        else
        {
            line.Append(" done");
        }
    }
}
