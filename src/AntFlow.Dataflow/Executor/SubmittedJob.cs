using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow;

/// <summary>A job given to <see cref="AsyncExecutor.Submit{T}(Func{CancellationToken, Task{T}}, CancellationToken)"/>.</summary>
/// <typeparam name="T">The type of the job's result.</typeparam>
internal sealed class SubmittedJob<T> : ExecutorJob
{
    private readonly Func<CancellationToken, Task<T>> _work;
    private readonly CancellationToken _executorToken;
    private readonly CancellationToken _callerToken;
    private readonly ILogger _logger;

    // Continuations run asynchronously so that the caller's code never runs on (and holds) a worker.
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Set before the job is queued; the queue's locks publish it to the worker.
    private CancellationTokenRegistration _callerRegistration;

    public SubmittedJob(Func<CancellationToken, Task<T>> work, CancellationToken executorToken, CancellationToken callerToken, ILogger logger)
    {
        _work = work;
        _executorToken = executorToken;
        _callerToken = callerToken;
        _logger = logger;
    }

    public Task<T> Completion => _completion.Task;

    /// <summary>Lets the caller's token cancel the job while it waits in the queue.</summary>
    public void WatchCallerToken()
    {
        if (_callerToken.CanBeCanceled)
        {
            _callerRegistration = _callerToken.UnsafeRegister(
                static (state, token) => ((SubmittedJob<T>)state!).TryCancel(token), this);
        }
    }

    protected override async Task ExecuteAsync()
    {
        CancellationTokenSource? linked = null;
        CancellationToken token = _executorToken;
        Task<T>? task = null;
        try
        {
            if (_callerToken.CanBeCanceled)
            {
                linked = CancellationTokenSource.CreateLinkedTokenSource(_executorToken, _callerToken);
                token = linked.Token;
            }

            token.ThrowIfCancellationRequested();
            task = _work(token) ?? throw ExecutorErrors.NullTask();
            _completion.TrySetResult(await task.ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // As with Task.Run: canceled when the job gave up because its own token was cancelled;
            // any other OperationCanceledException is a failure like any other and is kept as it is.
            _completion.TrySetCanceled(_callerToken.IsCancellationRequested ? _callerToken : _executorToken);
        }
        catch (Exception ex)
        {
            // As with Task.Run, a job whose task faulted with several exceptions (Task.WhenAll) keeps them all.
            if (task is { IsFaulted: true, Exception: { } faults })
            {
                _completion.TrySetException(faults.InnerExceptions);
            }
            else
            {
                _completion.TrySetException(ex);
            }

            ExecutorLog.JobFailed(_logger, ex);
        }
        finally
        {
            linked?.Dispose();
            _callerRegistration.Dispose();
        }
    }

    protected override void OnCancelled(CancellationToken reason)
    {
        _completion.TrySetCanceled(reason);
        _callerRegistration.Dispose();
    }
}
