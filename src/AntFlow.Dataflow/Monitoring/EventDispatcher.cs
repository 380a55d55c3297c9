using System.Threading.Channels;
using AntFlow.Dataflow.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AntFlow.Dataflow;

/// <summary>
/// Hands recorded events to subscribers from one background loop, in the order they were recorded, through a bounded buffer.
/// </summary>
/// <remarks>
/// Workers only ever write to the channel: subscriber code never runs on a worker. When the buffer is full a writer waits
/// for room (nothing is dropped). <see cref="_gate"/> guards the subscriber lists, the loop and disposal; it is never
/// held while waiting on the channel or running a subscriber.
/// </remarks>
internal sealed class EventDispatcher : IAsyncDisposable
{
    private readonly Channel<object> _channel;
    private readonly Lock _gate = new();

    // Copy-on-write arrays: replaced under _gate, read without it by the hot path and the loop.
    private Subscription<StatusEvent>[] _statusSubscribers = [];
    private Subscription<TaskEvent>[] _taskSubscribers = [];

    private Task? _loop;          // protected by _gate; started with the first subscription
    private Task? _disposeTask;   // protected by _gate
    private ILogger _logger = NullLogger.Instance;

    public EventDispatcher(int capacity)
    {
        _channel = Channel.CreateBounded<object>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,

            // The reader's continuation must never run inline on the worker that wrote the event.
            AllowSynchronousContinuations = false,
        });
    }

    public ILogger Logger
    {
        get => Volatile.Read(ref _logger);
        set => Volatile.Write(ref _logger, value is null ? NullLogger.Instance : QuietLogger.Wrap(value));
    }

    public bool HasStatusSubscribers => Volatile.Read(ref _statusSubscribers).Length != 0;

    public bool HasTaskSubscribers => Volatile.Read(ref _taskSubscribers).Length != 0;

    public IDisposable Subscribe(Func<StatusEvent, Task> handler)
    {
        var subscription = new Subscription<StatusEvent>(this, handler);
        lock (_gate)
        {
            StartLoopLocked();
            _statusSubscribers = [.. _statusSubscribers, subscription];
        }

        return subscription;
    }

    public IDisposable Subscribe(Func<TaskEvent, Task> handler)
    {
        var subscription = new Subscription<TaskEvent>(this, handler);
        lock (_gate)
        {
            StartLoopLocked();
            _taskSubscribers = [.. _taskSubscribers, subscription];
        }

        return subscription;
    }

    /// <summary>Buffers an event for the subscribers; completes synchronously while there is room.</summary>
    public ValueTask EnqueueAsync(object item, CancellationToken cancellationToken)
    {
        return _channel.Writer.TryWrite(item) ? default : WaitToEnqueueAsync(item, cancellationToken);
    }

    /// <summary>Completes when every event buffered before the call has been handed to the subscribers.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
        }

        if (loop is null)
        {
            return; // nobody ever subscribed, so nothing was ever buffered
        }

        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            // The marker queues behind every event already buffered and every writer already waiting for room.
            await _channel.Writer.WriteAsync(marker, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(false); // disposed: the loop drains what is left
            return;
        }

        await marker.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task? loop;
        lock (_gate)
        {
            if (_disposeTask is not null)
            {
                return new ValueTask(_disposeTask);
            }

            _disposeTask = done.Task;
            loop = _loop;
        }

        return new ValueTask(DisposeCoreAsync(loop, done));
    }

    private async Task DisposeCoreAsync(Task? loop, TaskCompletionSource done)
    {
        try
        {
            if (loop is not null)
            {
                // Let writers already waiting for room get their events in before the buffer closes.
                await FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }

            _channel.Writer.TryComplete();
            if (loop is not null)
            {
                await loop.ConfigureAwait(false);
            }

            lock (_gate)
            {
                _statusSubscribers = [];
                _taskSubscribers = [];
            }
        }
        finally
        {
            done.TrySetResult();
        }
    }

    private void StartLoopLocked()
    {
        if (_disposeTask is not null)
        {
            throw new ObjectDisposedException(nameof(StatusTracker));
        }

        _loop ??= Task.Run(RunAsync);
    }

    private async ValueTask WaitToEnqueueAsync(object item, CancellationToken cancellationToken)
    {
        try
        {
            await _channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The tracker was disposed while this writer waited: nobody listens any more, the queries are already updated.
        }
    }

    private async Task RunAsync()
    {
        ChannelReader<object> reader = _channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out object? item))
            {
                switch (item)
                {
                    case StatusEvent statusEvent:
                        await DeliverAsync(Volatile.Read(ref _statusSubscribers), statusEvent).ConfigureAwait(false);
                        break;
                    case TaskEvent taskEvent:
                        await DeliverAsync(Volatile.Read(ref _taskSubscribers), taskEvent).ConfigureAwait(false);
                        break;
                    case TaskCompletionSource flushMarker:
                        flushMarker.TrySetResult();
                        break;
                }
            }
        }
    }

    private async ValueTask DeliverAsync<TEvent>(Subscription<TEvent>[] subscribers, TEvent item)
        where TEvent : class
    {
        foreach (Subscription<TEvent> subscriber in subscribers)
        {
            // Checked per call so that a disposed subscription gets nothing more, even within this round.
            if (!subscriber.IsActive)
            {
                continue;
            }

            try
            {
                Task? pending = subscriber.Handler(item);
                if (pending is not null)
                {
                    await pending.ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                LogSubscriberFailure(ex, item);
            }
        }
    }

    private void LogSubscriberFailure(Exception exception, object item)
    {
        try
        {
            switch (item)
            {
                case StatusEvent e:
                    MonitoringLog.StatusSubscriberFailed(Logger, exception, e.ItemId, e.Status, e.Stage);
                    break;
                case TaskEvent e:
                    MonitoringLog.TaskSubscriberFailed(Logger, exception, e.ItemId, e.EventType, e.TaskName, e.Stage);
                    break;
            }
        }
        catch (Exception)
        {
            // A failing logger must not stop the loop: writers would then wait for room forever.
        }
    }

    private void Remove(Subscription<StatusEvent> subscription)
    {
        lock (_gate)
        {
            _statusSubscribers = Array.FindAll(_statusSubscribers, s => !ReferenceEquals(s, subscription));
        }
    }

    private void Remove(Subscription<TaskEvent> subscription)
    {
        lock (_gate)
        {
            _taskSubscribers = Array.FindAll(_taskSubscribers, s => !ReferenceEquals(s, subscription));
        }
    }

    private sealed class Subscription<TEvent>(EventDispatcher owner, Func<TEvent, Task> handler) : IDisposable
        where TEvent : class
    {
        private int _disposed;

        public Func<TEvent, Task> Handler => handler;

        public bool IsActive => Volatile.Read(ref _disposed) == 0;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            switch (this)
            {
                case Subscription<StatusEvent> status:
                    owner.Remove(status);
                    break;
                case Subscription<TaskEvent> task:
                    owner.Remove(task);
                    break;
            }
        }
    }
}
