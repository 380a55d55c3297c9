using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Tests.Pipelines;

[TestFixture]
[NonParallelizable]
public sealed class PipelineDiagnosticsTests
{
    [Test, CancelAfter(10_000)]
    public async Task Meter_CountersAndHistogram_SeeEveryItem(CancellationToken ct)
    {
        string stage = "Meter-" + Guid.NewGuid().ToString("N");
        var totals = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AntFlow.Dataflow")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, 1, tags));
        listener.Start();

        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage(stage, (int x) => x % 4 == 0 ? throw new IOException() : x, workers: 2)
            .Build();
        await pipeline.RunAsync(Enumerable.Range(0, 40), ct);

        Assert.That(totals.GetValueOrDefault("antflow.items.processed"), Is.EqualTo(30));
        Assert.That(totals.GetValueOrDefault("antflow.items.failed"), Is.EqualTo(10));
        Assert.That(totals.GetValueOrDefault("antflow.item.duration"), Is.EqualTo(40));

        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "stage" && (string?)tag.Value == stage)
                {
                    totals.AddOrUpdate(instrument.Name, value, (_, old) => old + value);
                }
            }
        }
    }

    [Test, CancelAfter(10_000)]
    public async Task ActivitySource_WhenListened_StartsOneActivityPerItemPerStage(CancellationToken ct)
    {
        string stage = "Trace-" + Guid.NewGuid().ToString("N");
        var activities = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "AntFlow.Dataflow",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == stage)
                {
                    activities.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage(stage, (int x) => x).Build();
        await pipeline.RunAsync(Enumerable.Range(0, 5), ct);

        Assert.That(activities, Has.Count.EqualTo(5));
        Assert.That(activities.All(a => (string?)a.GetTagItem("antflow.stage") == stage), Is.True);
    }

    [TestCase(RetryMode.PerStage)]
    [TestCase(RetryMode.PerTask)]
    [CancelAfter(10_000)]
    public async Task RunAsync_LogSinkThrowsOnEveryMessage_EveryItemStillComesOutWithItsOwnOutcome(RetryMode mode, CancellationToken ct)
    {
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(new ThrowingLoggerProvider()).SetMinimumLevel(LogLevel.Trace));
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Parse", s => s.Task("parse", (int x) => x % 5 == 0 ? throw new FormatException($"bad {x}") : x).Retry(mode, attempts: 2, delay: TimeSpan.Zero))
            .Stage("Double", (int x) => x * 2, workers: 2)
            .WithLogging(loggerFactory)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync(Enumerable.Range(0, 20), ct);

        Assert.That(results, Has.Count.EqualTo(20));
        Assert.That(results.Where(r => !r.IsSuccess).Select(r => r.SequenceId), Is.EqualTo(new long[] { 0, 5, 10, 15 }));
        Assert.That(results.Where(r => !r.IsSuccess).Select(r => r.Error), Is.All.TypeOf<FormatException>());
        Assert.That(results.Where(r => r.IsSuccess).Select(r => r.Value), Is.EqualTo(Enumerable.Range(0, 20).Where(x => x % 5 != 0).Select(x => x * 2)));
    }

    /// <summary>A log sink that fails on every message, as a broken provider does.</summary>
    private sealed class ThrowingLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ThrowingLogger();

        public void Dispose()
        {
        }

        private sealed class ThrowingLogger : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => throw new IOException("log sink unavailable");

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                throw new IOException("log sink unavailable");
        }
    }
}
