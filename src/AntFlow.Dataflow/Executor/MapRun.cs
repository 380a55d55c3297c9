using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow;

/// <summary>
/// One <c>MapAsync</c> call. Instead of queueing a job per input, the map queues at most one job per worker;
/// each of those jobs takes the next input from the shared enumerator until the inputs run out. Inputs still
/// start in input order, the executor's worker limit still holds (each job occupies one worker), and the hot
/// path costs one short lock and no allocation per input when the function completes synchronously.
/// </summary>
/// <remarks>
/// Lock order: <see cref="_sync"/> is the only lock; user code that runs under it is the input enumerator.
/// </remarks>
/// <typeparam name="T">The type of the inputs.</typeparam>
/// <typeparam name="TResult">The type of the results.</typeparam>
internal sealed class MapRun<T, TResult>
{
    private readonly Lock _sync = new();
    private readonly IEnumerator<T> _source;           // protected by _sync
    private readonly ResultSlots<TResult> _results;    // Reserve under _sync, Set lock-free
    private readonly ItemInvoker<T, TResult> _invoker;
    private readonly CancellationTokenSource _cancellation;
    private readonly CancellationToken _callerToken;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<IReadOnlyList<TResult>> _completion =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int _taken;                 // protected by _sync
    private bool _sourceDone;           // protected by _sync
    private Exception? _error;          // first failure; set once through Interlocked
    private volatile bool _interrupted; // some input was left unprocessed because the map was cancelled
    private int _activeWorkers;         // Interlocked
    private ExecutorJob[] _workers = [];
    private CancellationTokenRegistration _cancelQueuedWorkers;

    public MapRun(
        IEnumerator<T> source,
        int expectedCount,
        ItemInvoker<T, TResult> invoker,
        CancellationToken executorToken,
        CancellationToken callerToken,
        ILogger logger)
    {
        _source = source;
        _results = new ResultSlots<TResult>(expectedCount);
        _invoker = invoker;
        _callerToken = callerToken;
        _logger = logger;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(executorToken, callerToken);
    }

    public Task<IReadOnlyList<TResult>> Completion => _completion.Task;

    /// <summary>
    /// Creates the jobs that share the work. Each must be queued, or given to <see cref="WorkerNotQueued"/>, exactly
    /// once. A cancellation (the caller's token, or a shutdown that cancels pending work) cancels the jobs still waiting
    /// for a worker at once, so the map ends without waiting for unrelated jobs to free a worker.
    /// </summary>
    public ExecutorJob[] CreateWorkers(int count)
    {
        Debug.Assert(count > 0, "A map needs at least one worker.");
        _activeWorkers = count;
        var workers = new ExecutorJob[count];
        for (int i = 0; i < count; i++)
        {
            workers[i] = new Worker(this);
        }

        _workers = workers;
        _cancelQueuedWorkers = _cancellation.Token.UnsafeRegister(
            static state => ThreadPool.UnsafeQueueUserWorkItem(
                static run => run.CancelQueuedWorkers(), (MapRun<T, TResult>)state!, preferLocal: false),
            this);
        return workers;
    }

    /// <summary>Called for a worker that could not be queued because the executor shut down meanwhile.</summary>
    public void WorkerNotQueued(ExecutorJob worker)
    {
        if (worker.TryWithdraw())
        {
            WorkerExited();
        }
    }

    private void CancelQueuedWorkers()
    {
        // Off the cancelling thread (the callback queues this), because the last worker to exit disposes the token
        // source whose cancellation got us here.
        foreach (ExecutorJob worker in _workers)
        {
            worker.TryCancel(_callerToken);
        }
    }

    private async Task WorkAsync()
    {
        CancellationToken token = _cancellation.Token;
        int index = -1;
        try
        {
            while (true)
            {
                if (token.IsCancellationRequested)
                {
                    _interrupted = true;
                    return;
                }

                T item;
                lock (_sync)
                {
                    if (_sourceDone)
                    {
                        return;
                    }

                    try
                    {
                        if (!_source.MoveNext())
                        {
                            _sourceDone = true;
                            return;
                        }
                    }
                    catch
                    {
                        // The enumerator's state is unknown after it threw: nobody may call it again.
                        _sourceDone = true;
                        throw;
                    }

                    item = _source.Current;
                    index = _taken++;
                    _results.Reserve(index);
                }

                ValueTask<TResult> call = _invoker.InvokeAsync(item, index, token);
                TResult value = call.IsCompletedSuccessfully
                    ? call.Result
                    : await call.ConfigureAwait(false);
                _results.Set(index, value);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            _interrupted = true;
        }
        catch (Exception ex)
        {
            Fail(ex, index);
        }
        finally
        {
            WorkerExited();
        }
    }

    private void Fail(Exception error, long index)
    {
        if (Interlocked.CompareExchange(ref _error, error, null) is null)
        {
            ExecutorCancellation.CancelQuietly(_cancellation, _logger);
            ExecutorLog.MapFailed(_logger, index, error);
        }
    }

    private void WorkerExited()
    {
        if (Interlocked.Decrement(ref _activeWorkers) != 0)
        {
            return;
        }

        // Every worker has finished: nothing reads the enumerator or writes results any more.
        _cancelQueuedWorkers.Dispose();
        try
        {
            _source.Dispose();
        }
        catch (Exception ex)
        {
            Fail(ex, -1);
        }

        bool interrupted = _interrupted;
        CancellationToken reason = _callerToken.IsCancellationRequested ? _callerToken : _cancellation.Token;
        _cancellation.Dispose();

        if (_error is { } error)
        {
            _completion.TrySetException(error);
        }
        else if (interrupted)
        {
            _completion.TrySetCanceled(reason);
        }
        else
        {
            _completion.TrySetResult(_results.ToArray(_taken));
        }
    }

    /// <summary>One of the map's jobs in the executor's queue.</summary>
    private sealed class Worker(MapRun<T, TResult> run) : ExecutorJob
    {
        protected override Task ExecuteAsync() => run.WorkAsync();

        protected override void OnCancelled(CancellationToken reason)
        {
            run._interrupted = true;
            run.WorkerExited();
        }
    }
}
