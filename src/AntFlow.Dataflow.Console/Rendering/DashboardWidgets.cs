using Spectre.Console;
using Spectre.Console.Rendering;

namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>
/// The building blocks the displays are made of. Every method is a pure function of a <see cref="DisplayFrame"/>;
/// text that comes from the pipeline (names, ids, messages) goes into <see cref="Text"/>, never into markup, so
/// brackets in it cannot break rendering.
/// </summary>
internal static class DashboardWidgets
{
    /// <summary>How many failed items the recent-errors panel lists.</summary>
    public const int RecentErrorCount = 10;

    /// <summary>The longest error message shown in a table cell before it is cut with an ellipsis.</summary>
    public const int MaxMessageLength = 120;

    /// <summary>The longest current-task text shown in the worker table.</summary>
    public const int MaxTaskLength = 40;

    private static readonly Style LabelStyle = new(Color.Grey);
    private static readonly Style FailedStyle = new(Color.Red);
    private static readonly Style SuccessStyle = new(Color.Green);
    private static readonly Style BusyStyle = new(Color.Yellow);
    private static readonly Style DimStyle = new(Color.Grey, decoration: Decoration.Dim);

    /// <summary>The progress bar line: bar, done/total, percentage, rate, ETA and failures.</summary>
    /// <param name="frame">The frame to show.</param>
    /// <returns>One line (two if the terminal is very narrow).</returns>
    public static IRenderable ProgressLine(DisplayFrame frame)
    {
        var text = new Paragraph();
        if (frame.Fraction is { } fraction)
        {
            text.Append(DisplayFormat.Count(frame.Done) + "/" + DisplayFormat.Count(frame.Total!.Value), Style.Plain)
                .Append(" " + DisplayFormat.Percent(fraction), Style.Plain);
        }
        else
        {
            text.Append(DisplayFormat.Count(frame.Done) + " done", Style.Plain);
        }

        AppendSeparator(text);
        text.Append(DisplayFormat.Rate(frame.Rate), Style.Plain);
        if (frame.IsFinal)
        {
            text.Append(" avg", LabelStyle);
            AppendSeparator(text);
            text.Append("finished in ", LabelStyle).Append(DisplayFormat.Clock(frame.Elapsed), Style.Plain);
        }
        else if (frame.Total is not null)
        {
            AppendSeparator(text);
            text.Append("ETA ", LabelStyle).Append(DisplayFormat.Clock(frame.Eta), Style.Plain);
        }
        else
        {
            AppendSeparator(text);
            text.Append("elapsed ", LabelStyle).Append(DisplayFormat.Clock(frame.Elapsed), Style.Plain);
        }

        long failed = frame.Snapshot.PipelineStats.ItemsFailed;
        AppendSeparator(text);
        text.Append(DisplayFormat.Count(failed) + " failed", failed > 0 ? FailedStyle : LabelStyle);

        return frame.Fraction is { } barFraction ? Bar(frame, barFraction, text) : text;
    }

    /// <summary>The compact summary panel: progress, rate, ETA and the main counts.</summary>
    /// <param name="frame">The frame to show.</param>
    /// <returns>A panel.</returns>
    public static IRenderable SummaryPanel(DisplayFrame frame)
    {
        PipelineStats stats = frame.Snapshot.PipelineStats;
        var rows = new List<IRenderable>(3);

        var progress = new Paragraph();
        if (frame.Fraction is { } fraction)
        {
            progress.Append(DisplayFormat.Count(frame.Done) + "/" + DisplayFormat.Count(frame.Total!.Value), Style.Plain)
                .Append(" done (" + DisplayFormat.Percent(fraction) + ")", LabelStyle);
            rows.Add(Bar(frame, fraction, progress));
        }
        else
        {
            progress.Append(DisplayFormat.Count(frame.Done), Style.Plain).Append(" done (total unknown)", LabelStyle);
            rows.Add(progress);
        }

        var timing = new Paragraph();
        Field(timing, frame.IsFinal ? "Avg rate" : "Rate", DisplayFormat.Rate(frame.Rate), Style.Plain);
        if (!frame.IsFinal && frame.Total is not null)
        {
            Gap(timing);
            Field(timing, "ETA", DisplayFormat.Clock(frame.Eta), Style.Plain);
        }

        Gap(timing);
        Field(timing, "Elapsed", DisplayFormat.Clock(frame.Elapsed), Style.Plain);
        rows.Add(timing);

        var counts = new Paragraph();
        Field(counts, "Processed", DisplayFormat.Count(stats.ItemsProcessed), SuccessStyle);
        Gap(counts);
        Field(counts, "Failed", DisplayFormat.Count(stats.ItemsFailed), stats.ItemsFailed > 0 ? FailedStyle : Style.Plain);
        Gap(counts);
        Field(counts, "In flight", DisplayFormat.Count(stats.ItemsInFlight), Style.Plain);
        Gap(counts);
        Field(counts, "Skipped", DisplayFormat.Count(stats.ItemsSkipped), Style.Plain);
        Gap(counts);
        Field(counts, "Cancelled", DisplayFormat.Count(stats.ItemsCancelled), stats.ItemsCancelled > 0 ? BusyStyle : Style.Plain);
        rows.Add(counts);

        return new Panel(new Rows(rows))
        {
            Header = new PanelHeader(frame.IsFinal ? " Pipeline finished " : " Pipeline "),
            Border = BoxBorder.Rounded,
            BorderStyle = frame.IsFinal ? (stats.ItemsFailed > 0 ? FailedStyle : SuccessStyle) : LabelStyle,
        };
    }

    /// <summary>The per-stage table: workers, queued, running, done, failed and mean processing time.</summary>
    /// <param name="frame">The frame to show.</param>
    /// <returns>A table with one row per stage, in pipeline order.</returns>
    public static IRenderable StageTable(DisplayFrame frame)
    {
        var table = new Table { Border = TableBorder.Rounded, BorderStyle = LabelStyle, Title = new TableTitle("Stages") };
        table.AddColumn(new TableColumn("Stage"));
        table.AddColumn(new TableColumn("Workers").RightAligned());
        table.AddColumn(new TableColumn("Queued").RightAligned());
        table.AddColumn(new TableColumn("Running").RightAligned());
        table.AddColumn(new TableColumn("Done").RightAligned());
        table.AddColumn(new TableColumn("Failed").RightAligned());
        table.AddColumn(new TableColumn("Avg time").RightAligned());

        DashboardSnapshot snapshot = frame.Snapshot;
        IReadOnlyList<string> workers = OrderedWorkers(frame);
        foreach (string stage in OrderedStages(frame))
        {
            StageStats stats = snapshot.PipelineStats.StageStats.TryGetValue(stage, out StageStats? found)
                ? found
                : new StageStats { StageName = stage };

            int total = 0;
            int busy = 0;
            long handled = 0;
            TimeSpan time = TimeSpan.Zero;
            foreach (string worker in workers)
            {
                string? workerStage = StageOf(snapshot, worker);
                if (workerStage != stage)
                {
                    continue;
                }

                total++;
                if (snapshot.WorkerStates.TryGetValue(worker, out WorkerState? state) && state.Status == WorkerStatus.Busy)
                {
                    busy++;
                }

                if (snapshot.WorkerMetrics.TryGetValue(worker, out WorkerMetrics? metrics))
                {
                    handled += metrics.ItemsProcessed + metrics.ItemsFailed;
                    time += metrics.TotalProcessingTime;
                }
            }

            table.AddRow(
                new Text(stage),
                new Text(total == 0 ? DisplayFormat.Unknown : busy + "/" + total, busy > 0 ? BusyStyle : Style.Plain),
                new Text(DisplayFormat.Count(stats.PendingItems)),
                new Text(DisplayFormat.Count(stats.InProgressItems), stats.InProgressItems > 0 ? BusyStyle : Style.Plain),
                new Text(DisplayFormat.Count(stats.CompletedItems), SuccessStyle),
                new Text(DisplayFormat.Count(stats.FailedItems), stats.FailedItems > 0 ? FailedStyle : Style.Plain),
                new Text(handled == 0 ? DisplayFormat.Unknown : DisplayFormat.Duration(time / handled)));
        }

        if (table.Rows.Count == 0)
        {
            table.Caption = new TableTitle("no stages yet", DimStyle);
        }

        return table;
    }

    /// <summary>The worker performance table: processed, failed, mean time and success rate per worker.</summary>
    /// <param name="frame">The frame to show.</param>
    /// <returns>A table with one row per worker, in pipeline order.</returns>
    public static IRenderable WorkerPerformanceTable(DisplayFrame frame)
    {
        var table = new Table { Border = TableBorder.Rounded, BorderStyle = LabelStyle, Title = new TableTitle("Worker performance") };
        table.AddColumn(new TableColumn("Worker"));
        table.AddColumn(new TableColumn("Processed").RightAligned());
        table.AddColumn(new TableColumn("Failed").RightAligned());
        table.AddColumn(new TableColumn("Avg time").RightAligned());
        table.AddColumn(new TableColumn("Success").RightAligned());

        foreach (string worker in OrderedWorkers(frame))
        {
            frame.Snapshot.WorkerMetrics.TryGetValue(worker, out WorkerMetrics? metrics);
            table.AddRow(new IRenderable[] { new Text(worker) }.Concat(MetricCells(metrics)));
        }

        if (table.Rows.Count == 0)
        {
            table.Caption = new TableTitle("no workers yet", DimStyle);
        }

        return table;
    }

    /// <summary>
    /// The worker grid: for each worker whether it is busy, its item, its task or status text, the time on the
    /// current item, and its performance so far.
    /// </summary>
    /// <param name="frame">The frame to show.</param>
    /// <returns>A table with one row per worker, in pipeline order.</returns>
    public static IRenderable WorkerGrid(DisplayFrame frame)
    {
        DashboardSnapshot snapshot = frame.Snapshot;
        int busyCount = snapshot.WorkerStates.Values.Count(s => s.Status == WorkerStatus.Busy);
        var table = new Table
        {
            Border = TableBorder.Rounded,
            BorderStyle = LabelStyle,
            Title = new TableTitle($"Workers ({busyCount} busy of {snapshot.WorkerStates.Count})"),
        };
        table.AddColumn(new TableColumn("Worker").NoWrap());
        table.AddColumn(new TableColumn("Item"));
        table.AddColumn(new TableColumn("Task"));
        table.AddColumn(new TableColumn("On item").RightAligned().NoWrap());
        table.AddColumn(new TableColumn("Done").RightAligned());
        table.AddColumn(new TableColumn("Failed").RightAligned());
        table.AddColumn(new TableColumn("Avg time").RightAligned().NoWrap());
        table.AddColumn(new TableColumn("Success").RightAligned().NoWrap());

        foreach (string worker in OrderedWorkers(frame))
        {
            snapshot.WorkerStates.TryGetValue(worker, out WorkerState? state);
            snapshot.WorkerMetrics.TryGetValue(worker, out WorkerMetrics? metrics);
            bool busy = state?.Status == WorkerStatus.Busy;
            TimeSpan? onItem = busy && state!.ProcessingSince is { } since ? snapshot.Timestamp - since : null;
            var name = new Paragraph();
            name.Append(busy ? "● " : "○ ", busy ? BusyStyle : DimStyle).Append(worker, Style.Plain);
            var cells = new List<IRenderable>(8)
            {
                name,
                new Text(busy ? DisplayFormat.ItemId(state!.CurrentItemId) : string.Empty),
                busy
                    ? new SingleLineText(DisplayFormat.SingleLine(state!.CurrentTask, MaxTaskLength))
                    : new Text("idle", DimStyle),
                new Text(busy ? DisplayFormat.Duration(onItem) : string.Empty),
            };
            cells.AddRange(MetricCells(metrics));
            table.AddRow(cells);
        }

        if (table.Rows.Count == 0)
        {
            table.Caption = new TableTitle("no workers yet", DimStyle);
        }

        return table;
    }

    /// <summary>The recent-errors panel: the last failed items (newest first) with id, stage, type and message.</summary>
    /// <param name="frame">The frame to show.</param>
    /// <param name="maxErrors">How many failed items to list.</param>
    /// <returns>A panel.</returns>
    public static IRenderable ErrorsPanel(DisplayFrame frame, int maxErrors = RecentErrorCount)
    {
        ErrorSummary errors = frame.Snapshot.ErrorSummary;
        IReadOnlyList<FailedItem> failed = errors.FailedItems;
        int total = Math.Max(errors.TotalFailed, failed.Count);
        if (total == 0)
        {
            return new Panel(new Text("No errors.", DimStyle))
            {
                Header = new PanelHeader(" Errors "),
                Border = BoxBorder.Rounded,
                BorderStyle = LabelStyle,
            };
        }

        var table = new Table { Border = TableBorder.Minimal, BorderStyle = LabelStyle, Expand = true };
        table.AddColumn(new TableColumn("Id"));
        table.AddColumn(new TableColumn("Stage"));
        table.AddColumn(new TableColumn("Type"));
        table.AddColumn(new TableColumn("Tries").RightAligned());
        table.AddColumn(new TableColumn("Message"));

        int shown = Math.Min(Math.Max(0, maxErrors), failed.Count);
        for (int i = failed.Count - 1; i >= failed.Count - shown; i--)
        {
            FailedItem item = failed[i];
            table.AddRow(
                new Text(DisplayFormat.ItemId(item.ItemId)),
                new Text(item.Stage),
                new Text(item.ErrorType, FailedStyle),
                new Text(item.Attempts > 0 ? DisplayFormat.Count(item.Attempts) : DisplayFormat.Unknown),
                new SingleLineText(DisplayFormat.SingleLine(item.Error, MaxMessageLength)));
        }

        var rows = new List<IRenderable>(2) { table };
        if (errors.ErrorsByType.Count > 0)
        {
            var byType = new Paragraph();
            byType.Append("By type: ", LabelStyle);
            bool first = true;
            foreach (KeyValuePair<string, int> pair in errors.ErrorsByType.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
            {
                if (!first)
                {
                    byType.Append(", ", LabelStyle);
                }

                byType.Append(pair.Key, FailedStyle).Append(" ×" + DisplayFormat.Count(pair.Value), Style.Plain);
                first = false;
            }

            rows.Add(byType);
        }

        string header = shown < total
            ? $" Recent errors (last {shown} of {DisplayFormat.Count(total)}) "
            : $" Errors ({DisplayFormat.Count(total)}) ";
        return new Panel(new Rows(rows))
        {
            Header = new PanelHeader(header),
            Border = BoxBorder.Rounded,
            BorderStyle = FailedStyle,
        };
    }

    /// <summary>Stage names in pipeline order: the known order first, then any other stage the snapshot mentions.</summary>
    /// <param name="frame">The frame.</param>
    /// <returns>Distinct stage names.</returns>
    public static IReadOnlyList<string> OrderedStages(DisplayFrame frame)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (string stage in frame.StageOrder)
        {
            if (seen.Add(stage))
            {
                result.Add(stage);
            }
        }

        foreach (string stage in frame.Snapshot.PipelineStats.StageStats.Keys)
        {
            if (seen.Add(stage))
            {
                result.Add(stage);
            }
        }

        foreach (string worker in OtherWorkers(frame, seenWorkers: null))
        {
            string? stage = StageOf(frame.Snapshot, worker);
            if (stage is not null && seen.Add(stage))
            {
                result.Add(stage);
            }
        }

        return result;
    }

    /// <summary>Worker names in pipeline order: the known order first, then the rest by stage and number.</summary>
    /// <param name="frame">The frame.</param>
    /// <returns>Distinct worker names.</returns>
    public static IReadOnlyList<string> OrderedWorkers(DisplayFrame frame)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (string worker in frame.WorkerOrder)
        {
            if (seen.Add(worker))
            {
                result.Add(worker);
            }
        }

        result.AddRange(OtherWorkers(frame, seen));
        return result;
    }

    private static List<string> OtherWorkers(DisplayFrame frame, HashSet<string>? seenWorkers)
    {
        DashboardSnapshot snapshot = frame.Snapshot;
        var stageIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string stage in frame.StageOrder.Concat(snapshot.PipelineStats.StageStats.Keys))
        {
            stageIndex.TryAdd(stage, stageIndex.Count);
        }

        var others = snapshot.WorkerStates.Keys
            .Concat(snapshot.WorkerMetrics.Keys)
            .Distinct(StringComparer.Ordinal)
            .Where(w => seenWorkers is null || !seenWorkers.Contains(w))
            .ToList();
        others.Sort((a, b) =>
        {
            int ia = StageOf(snapshot, a) is { } sa && stageIndex.TryGetValue(sa, out int x) ? x : int.MaxValue;
            int ib = StageOf(snapshot, b) is { } sb && stageIndex.TryGetValue(sb, out int y) ? y : int.MaxValue;
            return ia != ib ? ia.CompareTo(ib) : NaturalNameComparer.Instance.Compare(a, b);
        });
        return others;
    }

    private static string? StageOf(DashboardSnapshot snapshot, string worker) =>
        snapshot.WorkerStates.TryGetValue(worker, out WorkerState? state) ? state.Stage
        : snapshot.WorkerMetrics.TryGetValue(worker, out WorkerMetrics? metrics) ? metrics.Stage
        : null;

    private static IEnumerable<IRenderable> MetricCells(WorkerMetrics? metrics)
    {
        long processed = metrics?.ItemsProcessed ?? 0;
        long failed = metrics?.ItemsFailed ?? 0;
        long handled = processed + failed;
        double? success = handled == 0 ? null : (double)processed / handled;
        yield return new Text(DisplayFormat.Count(processed));
        yield return new Text(DisplayFormat.Count(failed), failed > 0 ? FailedStyle : Style.Plain);
        yield return new Text(handled == 0 ? DisplayFormat.Unknown : DisplayFormat.Duration(metrics!.AverageProcessingTime));
        yield return new Text(
            DisplayFormat.Percent(success),
            success switch { null => Style.Plain, >= 0.99 => SuccessStyle, >= 0.9 => BusyStyle, _ => FailedStyle });
    }

    private static BarLine Bar(DisplayFrame frame, double fraction, IRenderable text) =>
        new(fraction, frame.IsFinal && frame.Snapshot.PipelineStats.ItemsFailed > 0 ? FailedStyle : SuccessStyle, text);

    private static void AppendSeparator(Paragraph text) => text.Append(" • ", LabelStyle);

    private static void Gap(Paragraph text) => text.Append("   ", Style.Plain);

    private static void Field(Paragraph text, string label, string value, Style valueStyle) =>
        text.Append(label + " ", LabelStyle).Append(value, valueStyle);
}
