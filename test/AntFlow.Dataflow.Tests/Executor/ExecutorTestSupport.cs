using System.Collections;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.Executor;

/// <summary>Counts jobs running at the same time and remembers the highest count.</summary>
internal sealed class ConcurrencyProbe
{
    private int _running;
    private int _max;

    public int Max => Volatile.Read(ref _max);

    public int Running => Volatile.Read(ref _running);

    public void Enter()
    {
        int now = Interlocked.Increment(ref _running);
        int seen;
        while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
        {
        }
    }

    public void Exit() => Interlocked.Decrement(ref _running);
}

/// <summary>A <see cref="FakeTimeProvider"/> that reports when a timer is created, so a test can advance time
/// only once something actually waits on it.</summary>
internal sealed class TimerSignalingTimeProvider : FakeTimeProvider
{
    private readonly SemaphoreSlim _created = new(0);

    public Task WaitForTimerAsync(CancellationToken cancellationToken) => _created.WaitAsync(cancellationToken);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        _created.Release();
        return timer;
    }
}

/// <summary>An input sequence, endless unless a count is given, that counts what it produced.</summary>
internal sealed class CountingSequence(int? count = null) : IEnumerable<int>
{
    private int _produced;
    private int _disposed;

    public int Produced => Volatile.Read(ref _produced);

    public bool Disposed => Volatile.Read(ref _disposed) != 0;

    public IEnumerator<int> GetEnumerator()
    {
        try
        {
            for (int i = 0; count is null || i < count; i++)
            {
                Interlocked.Increment(ref _produced);
                yield return i;
            }
        }
        finally
        {
            Interlocked.Exchange(ref _disposed, 1);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Collects log entries (event name and message) in memory.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string EventName, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, eventId.Name ?? string.Empty, formatter(state, exception)));
    }
}
