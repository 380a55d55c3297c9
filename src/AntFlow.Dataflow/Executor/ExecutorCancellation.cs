using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow;

/// <summary>Cancellation helpers for <see cref="AsyncExecutor"/>.</summary>
internal static class ExecutorCancellation
{
    /// <summary>
    /// Cancels <paramref name="source"/>. Callbacks registered by user code run here; if one throws, the
    /// exception is logged instead of escaping into a worker, which must never fault.
    /// </summary>
    public static void CancelQuietly(CancellationTokenSource source, ILogger logger)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException ex)
        {
            ExecutorLog.CancellationCallbackFailed(logger, ex);
        }
        catch (ObjectDisposedException)
        {
            // Already finished and cleaned up: there is nothing left to cancel.
        }
    }
}
