using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using AntFlow.Dataflow;

namespace WebDashboard;

/// <summary>
/// The live channel: every connected page gets a <c>hello</c> (the whole picture), then a <c>snapshot</c> every second
/// and at every change of the run's state, and <c>events</c> batches of tracker events four times a second.
/// </summary>
/// <remarks>
/// Messages are serialized once and shared by all pages. Each page has a small buffer of its own; a page that falls
/// behind loses its oldest messages rather than slowing the others (the next snapshot repairs it).
/// </remarks>
internal sealed class DashboardHub : BackgroundService
{
    private const int ClientBuffer = 64;
    private const int MaxThroughputPoints = 900;
    private static readonly TimeSpan SnapshotInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan EventsInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MinPointSpacing = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly DemoRunner _runner;
    private readonly ActivityFeed _feed;
    private readonly TimeProvider _time;
    private readonly List<ChannelWriter<SseItem<string>>> _clients = []; // protected by _lock
    private readonly List<ThroughputPoint> _throughput = []; // protected by _lock; points of run _throughputRunId
    private int _throughputRunId; // protected by _lock
    private DateTimeOffset _lastPointTime; // protected by _lock
    private long _lastPointFinished; // protected by _lock
    private bool _closed; // protected by _lock

    public DashboardHub(DemoRunner runner, ActivityFeed feed, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        _runner = runner;
        _feed = feed;
        _time = time;
        _runner.StateChanged += _ => PublishSnapshot();

        // Open event streams would otherwise hold the server's shutdown until its timeout.
        lifetime.ApplicationStopping.Register(CloseAll);
    }

    /// <summary>Everything a page needs to draw itself now.</summary>
    public HelloMessage GetHello()
    {
        lock (_lock)
        {
            return BuildHelloLocked();
        }
    }

    /// <summary>The messages for one page, starting with its <c>hello</c>, until it disconnects or the server stops.</summary>
    public async IAsyncEnumerable<SseItem<string>> StreamAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<SseItem<string>>(new BoundedChannelOptions(ClientBuffer)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });

        lock (_lock)
        {
            // Under the lock, so no snapshot can slip in before the hello.
            string hello = JsonSerializer.Serialize(BuildHelloLocked(), DashboardJsonContext.Default.HelloMessage);
            channel.Writer.TryWrite(new SseItem<string>(hello, "hello") { ReconnectionInterval = TimeSpan.FromSeconds(1) });
            if (_closed)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _clients.Add(channel.Writer);
            }
        }

        try
        {
            ChannelReader<SseItem<string>> reader = channel.Reader;
            while (await WaitToReadAsync(reader, cancellationToken))
            {
                while (reader.TryRead(out SseItem<string> item))
                {
                    yield return item;
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _clients.Remove(channel.Writer);
            }
        }
    }

    /// <summary>Sends a fresh snapshot to every page now.</summary>
    public void PublishSnapshot()
    {
        lock (_lock)
        {
            (RunInfo run, Pipeline<int, string> pipeline) = _runner.GetCurrent();
            SnapshotDto snapshot = SnapshotMapper.Map(pipeline, pipeline.StageNames);
            ThroughputPoint? point = AddThroughputPointLocked(run, snapshot);
            BroadcastLocked("snapshot", JsonSerializer.Serialize(new SnapshotMessage(run, snapshot, point), DashboardJsonContext.Default.SnapshotMessage));
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(SnapshotLoopAsync(stoppingToken), EventsLoopAsync(stoppingToken));

    private static async ValueTask<bool> WaitToReadAsync(ChannelReader<SseItem<string>> reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.WaitToReadAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The page went away: end the stream quietly.
            return false;
        }
    }

    private async Task SnapshotLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SnapshotInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                PublishSnapshot();
            }
        }
        catch (OperationCanceledException)
        {
            // The server is stopping.
        }
    }

    private async Task EventsLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(EventsInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (_feed.Drain(_runner.GetCurrent().Run.RunId) is { } batch)
                {
                    string json = JsonSerializer.Serialize(batch, DashboardJsonContext.Default.EventsMessage);
                    lock (_lock)
                    {
                        BroadcastLocked("events", json);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The server is stopping.
        }
    }

    private HelloMessage BuildHelloLocked()
    {
        (RunInfo run, Pipeline<int, string> pipeline) = _runner.GetCurrent();
        SnapshotDto snapshot = SnapshotMapper.Map(pipeline, pipeline.StageNames);
        ThroughputPoint[] throughput = run.RunId == _throughputRunId ? [.. _throughput] : [];
        return new HelloMessage(run, snapshot, throughput, _feed.GetRecent());
    }

    /// <summary>Items finished (processed or failed) per second since the previous point, while a run is going on.</summary>
    private ThroughputPoint? AddThroughputPointLocked(RunInfo run, SnapshotDto snapshot)
    {
        if (run.StartedAt is not { } started)
        {
            return null;
        }

        long finished = snapshot.Totals.Processed + snapshot.Totals.Failed;
        if (run.RunId != _throughputRunId)
        {
            _throughput.Clear();
            _throughputRunId = run.RunId;
            _lastPointTime = started;
            _lastPointFinished = 0;
        }

        TimeSpan elapsed = snapshot.Timestamp - _lastPointTime;
        bool active = run.State is DemoRunner.Running or DemoRunner.Stopping || finished != _lastPointFinished;
        if (!active || elapsed < MinPointSpacing)
        {
            return null;
        }

        var point = new ThroughputPoint(
            Math.Round((snapshot.Timestamp - started).TotalSeconds, 3),
            Math.Round((finished - _lastPointFinished) / elapsed.TotalSeconds, 2),
            finished);
        _lastPointTime = snapshot.Timestamp;
        _lastPointFinished = finished;
        if (_throughput.Count == MaxThroughputPoints)
        {
            _throughput.RemoveAt(0);
        }

        _throughput.Add(point);
        return point;
    }

    private void BroadcastLocked(string eventType, string json)
    {
        var item = new SseItem<string>(json, eventType);
        foreach (ChannelWriter<SseItem<string>> client in _clients)
        {
            client.TryWrite(item);
        }
    }

    private void CloseAll()
    {
        lock (_lock)
        {
            _closed = true;
            foreach (ChannelWriter<SseItem<string>> client in _clients)
            {
                client.TryComplete();
            }

            _clients.Clear();
        }
    }
}
