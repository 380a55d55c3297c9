using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Tests.Monitoring;

/// <summary>A logger (and provider) that keeps every entry, so tests can assert what was logged.</summary>
internal sealed class ListLogger : ILogger, ILoggerProvider
{
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Entries.Enqueue(new LogEntry(logLevel, eventId, exception, formatter(state, exception)));
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }

    internal sealed record LogEntry(LogLevel Level, EventId EventId, Exception? Exception, string Message);
}
