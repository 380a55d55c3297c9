using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Diagnostics;

/// <summary>
/// A logger that never throws. A logging provider that fails (Microsoft.Extensions.Logging rethrows provider failures
/// as an <see cref="AggregateException"/>) must not change what happens to an item or a job, nor stop a worker, so
/// every log call the library makes goes through this wrapper and a failing call is dropped.
/// </summary>
internal sealed class QuietLogger : ILogger
{
    private readonly ILogger _inner;

    private QuietLogger(ILogger inner) => _inner = inner;

    /// <summary>Wraps <paramref name="logger"/>, unless it is already quiet.</summary>
    public static ILogger Wrap(ILogger logger) => logger as QuietLogger ?? new QuietLogger(logger);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
    {
        try
        {
            return _inner.BeginScope(state);
        }
        catch (Exception)
        {
            return null;
        }
    }

    public bool IsEnabled(LogLevel logLevel)
    {
        try
        {
            return _inner.IsEnabled(logLevel);
        }
        catch (Exception)
        {
            return false;
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            _inner.Log(logLevel, eventId, state, exception, formatter);
        }
        catch (Exception)
        {
            // Nowhere left to report it: the logging pipeline itself is what failed.
        }
    }
}
