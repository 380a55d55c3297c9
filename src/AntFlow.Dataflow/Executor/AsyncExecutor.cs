using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Dataflow;
using AntFlow.Dataflow.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace AntFlow.Dataflow;

/// <summary>
/// A pool of at most <see cref="MaxWorkers"/> concurrently running asynchronous jobs, in the style of Python's
/// <c>concurrent.futures</c> executors: <see cref="Submit{T}(Func{CancellationToken, Task{T}})"/>
/// one job, <see cref="MapAsync{T, TResult}(IEnumerable{T}, Func{T, CancellationToken, Task{TResult}}, int, CancellationToken)"/>
/// a function over many inputs (with retries), stream results with
/// <see cref="MapIterAsync{T, TResult}(IEnumerable{T}, Func{T, CancellationToken, Task{TResult}}, int, CancellationToken)"/>,
/// and wait for tasks with <see cref="AsCompleted{T}(IEnumerable{Task{T}}, TimeSpan?, CancellationToken)"/> and
/// <see cref="WaitAsync{T}(IEnumerable{Task{T}}, WaitStrategy, TimeSpan?, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// <para>
/// Jobs wait in a <see cref="BufferBlock{T}"/> and run on an <see cref="ActionBlock{TInput}"/> whose
/// <see cref="ExecutionDataflowBlockOptions.MaxDegreeOfParallelism"/> is <see cref="MaxWorkers"/>, so they start
/// in submission order (FIFO) and never more than <see cref="MaxWorkers"/> run at once. The pool needs no
/// start call. Disposing the executor shuts it down gracefully: queued jobs still run and the disposal waits for them.
/// </para>
/// <para>
/// Counting attempts: <c>retries: 3</c> means up to four calls of the function per input (the first call and three
/// retries). A pipeline stage's <c>Retry(…, attempts: 3)</c> counts the first call, so it makes at most three calls.
/// </para>
/// </remarks>
[DebuggerDisplay("MaxWorkers = {MaxWorkers}, IsShutdown = {IsShutdown}")]
public sealed partial class AsyncExecutor : IAsyncDisposable
{
    private readonly BufferBlock<ExecutorJob> _queue;
    private readonly ActionBlock<ExecutorJob> _workers;

    // Cancelled by ShutdownAsync(cancelPending: true): running jobs see it through their token and queued
    // jobs that still reach a worker are dropped. It has no timer, so it is never disposed.
    private readonly CancellationTokenSource _cancelPending = new();
    private readonly CancellationToken _cancelPendingToken;

    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _retryDelay;
    private readonly DelayBackoffType _retryBackoffType;
    private readonly bool _useJitter;
    private readonly TimeSpan? _maxRetryDelay;
    private readonly ILogger _logger;

    private int _shutdown; // 0 while open, 1 once ShutdownAsync has been called; Interlocked

    /// <summary>Creates an executor that runs at most <paramref name="maxWorkers"/> jobs at the same time.</summary>
    /// <param name="maxWorkers">How many jobs may run at the same time.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxWorkers"/> is less than 1.</exception>
    public AsyncExecutor(int maxWorkers)
        : this(CreateOptions(maxWorkers))
    {
    }

    /// <summary>Creates an executor from <paramref name="options"/>, which are copied.</summary>
    /// <param name="options">The executor's settings.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    public AsyncExecutor(AsyncExecutorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        MaxWorkers = options.MaxWorkers;
        _timeProvider = options.TimeProvider;
        _retryDelay = options.RetryDelay;
        _retryBackoffType = options.RetryBackoffType;
        _useJitter = options.UseJitter;
        _maxRetryDelay = options.MaxRetryDelay;
        _logger = QuietLogger.Wrap((options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AsyncExecutor>());
        _cancelPendingToken = _cancelPending.Token;

        _queue = new BufferBlock<ExecutorJob>();

        // Bounded to MaxWorkers, the action block holds only running jobs: everything that waits stays in the
        // buffer, where a cancelling shutdown can take it back.
        CancellationToken cancelQueued = _cancelPendingToken;
        _workers = new ActionBlock<ExecutorJob>(
            job => job.RunAsync(cancelQueued),
            new ExecutionDataflowBlockOptions
            {
                MaxDegreeOfParallelism = MaxWorkers,
                BoundedCapacity = MaxWorkers,
            });
        _queue.LinkTo(_workers, new DataflowLinkOptions { PropagateCompletion = true });

        ExecutorLog.ExecutorCreated(_logger, MaxWorkers);
    }

    /// <summary>Gets how many jobs may run at the same time.</summary>
    public int MaxWorkers { get; }

    /// <summary>Gets whether <see cref="ShutdownAsync"/> (or <see cref="DisposeAsync"/>) has been called.</summary>
    public bool IsShutdown => Volatile.Read(ref _shutdown) != 0;

    /// <summary>
    /// Gets a task that completes when the executor has been shut down and every job that was accepted has finished.
    /// </summary>
    public Task Completion => _workers.Completion;

    /// <summary>
    /// Queues <paramref name="job"/> and returns its task at once; the job starts when a worker is free, after the
    /// jobs submitted before it.
    /// </summary>
    /// <remarks>
    /// Whatever the job does ends up in the returned task: its result, its exception, or cancellation. The task
    /// is canceled if the job is cancelled before it starts (by <see cref="ShutdownAsync"/> with
    /// <c>cancelPending: true</c>), or if it throws <see cref="OperationCanceledException"/> after the token it was
    /// given has been cancelled; any other exception, including an <see cref="OperationCanceledException"/> of its
    /// own, faults the task with that exception.
    /// </remarks>
    /// <typeparam name="T">The type of the job's result.</typeparam>
    /// <param name="job">
    /// The job. Its token is cancelled when the executor is shut down with <c>cancelPending: true</c>.
    /// </param>
    /// <returns>The job's task.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is <see langword="null"/>.</exception>
    /// <exception cref="ExecutorShutdownException">The executor has been shut down.</exception>
    public Task<T> Submit<T>(Func<CancellationToken, Task<T>> job) => Submit(job, CancellationToken.None);

    /// <summary>
    /// Queues <paramref name="job"/> and returns its task at once; the job starts when a worker is free, after the
    /// jobs submitted before it, unless <paramref name="cancellationToken"/> is cancelled first.
    /// </summary>
    /// <remarks>
    /// Whatever the job does ends up in the returned task: its result, its exception, or cancellation. The task
    /// is canceled if the job is cancelled before it starts (by <paramref name="cancellationToken"/> or by
    /// <see cref="ShutdownAsync"/> with <c>cancelPending: true</c>), or if it throws
    /// <see cref="OperationCanceledException"/> after the token it was given has been cancelled; any other
    /// exception, including an <see cref="OperationCanceledException"/> of its own, faults the task with that
    /// exception.
    /// </remarks>
    /// <typeparam name="T">The type of the job's result.</typeparam>
    /// <param name="job">
    /// The job. Its token is cancelled when <paramref name="cancellationToken"/> is, or when the executor is shut
    /// down with <c>cancelPending: true</c>.
    /// </param>
    /// <param name="cancellationToken">Cancels the job: before it starts, it never runs; once it runs, its token is cancelled.</param>
    /// <returns>The job's task.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is <see langword="null"/>.</exception>
    /// <exception cref="ExecutorShutdownException">The executor has been shut down.</exception>
    public Task<T> Submit<T>(Func<CancellationToken, Task<T>> job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ThrowIfShutdown();

        var submitted = new SubmittedJob<T>(job, _cancelPendingToken, cancellationToken, _logger);
        submitted.WatchCallerToken();
        if (!_queue.Post(submitted))
        {
            submitted.TryCancel(_cancelPendingToken);
            throw ExecutorErrors.Shutdown();
        }

        return submitted.Completion;
    }

    /// <inheritdoc cref="Submit{T}(Func{CancellationToken, Task{T}})"/>
    public Task Submit(Func<CancellationToken, Task> job) => Submit(job, CancellationToken.None);

    /// <inheritdoc cref="Submit{T}(Func{CancellationToken, Task{T}}, CancellationToken)"/>
    public Task Submit(Func<CancellationToken, Task> job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Submit(
            async token =>
            {
                await (job(token) ?? throw ExecutorErrors.NullTask()).ConfigureAwait(false);
                return true;
            },
            cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="function"/> for every input on the executor's workers and returns the results in
    /// input order, like Python's <c>Executor.map</c>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Inputs start in input order and count against <see cref="MaxWorkers"/> like any other job. A failing call
    /// is retried up to <paramref name="retries"/> times through a Polly retry strategy, with the delay and
    /// backoff of <see cref="AsyncExecutorOptions"/> measured on its <see cref="AsyncExecutorOptions.TimeProvider"/>;
    /// an <see cref="OperationCanceledException"/> is not retried.
    /// </para>
    /// <para>
    /// When an input still fails after its retries, the other calls are cancelled (no new input starts, running
    /// ones see their token cancelled), and once they have returned the task fails with that input's original
    /// exception.
    /// </para>
    /// </remarks>
    /// <typeparam name="T">The type of the inputs.</typeparam>
    /// <typeparam name="TResult">The type of the results.</typeparam>
    /// <param name="items">The inputs. They are enumerated once, by the workers, as they become free.</param>
    /// <param name="function">The function to run for each input.</param>
    /// <param name="retries">How many times a failing call is retried: <c>3</c> means up to four calls in all.</param>
    /// <param name="cancellationToken">Cancels the whole map; the task then ends canceled.</param>
    /// <returns>One result per input, in input order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="items"/> or <paramref name="function"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="retries"/> is negative.</exception>
    /// <exception cref="ExecutorShutdownException">The executor has been shut down.</exception>
    public Task<IReadOnlyList<TResult>> MapAsync<T, TResult>(
        IEnumerable<T> items,
        Func<T, CancellationToken, Task<TResult>> function,
        int retries = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(function);
        ArgumentOutOfRangeException.ThrowIfNegative(retries);
        ThrowIfShutdown();

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<TResult>>(cancellationToken);
        }

        bool counted = items.TryGetNonEnumeratedCount(out int count);
        if (counted && count == 0)
        {
            return Task.FromResult<IReadOnlyList<TResult>>([]);
        }

        var invoker = new ItemInvoker<T, TResult>(function, CreateRetryPipeline(retries));
        var run = new MapRun<T, TResult>(
            items.GetEnumerator(), counted ? count : 0, invoker, _cancelPendingToken, cancellationToken, _logger);
        ExecutorJob[] jobs = run.CreateWorkers(counted ? Math.Min(MaxWorkers, count) : MaxWorkers);
        for (int i = 0; i < jobs.Length; i++)
        {
            if (_queue.Post(jobs[i]))
            {
                continue;
            }

            // Shut down meanwhile: the jobs already queued finish the map on their own.
            for (int j = i; j < jobs.Length; j++)
            {
                run.WorkerNotQueued(jobs[j]);
            }

            if (i == 0)
            {
                throw ExecutorErrors.Shutdown();
            }

            break;
        }

        return run.Completion;
    }

    /// <summary>
    /// Runs <paramref name="function"/> for every input on the executor's workers and streams the results in input
    /// order as they become available, taking inputs only as the consumer makes room for them.
    /// </summary>
    /// <remarks>
    /// <para>
    /// At most <c>2 × MaxWorkers</c> inputs are taken from <paramref name="items"/> beyond the one whose result the
    /// consumer is handling, so <paramref name="items"/> may be endless. Leaving the loop early (or cancelling)
    /// cancels the calls still running and stops taking inputs.
    /// </para>
    /// <para>
    /// Retries work as in <see cref="MapAsync{T, TResult}(IEnumerable{T}, Func{T, CancellationToken, Task{TResult}}, int, CancellationToken)"/>.
    /// When an input still fails after its retries, the enumeration throws its original exception when it reaches
    /// that input, and the calls for later inputs are cancelled.
    /// </para>
    /// </remarks>
    /// <typeparam name="T">The type of the inputs.</typeparam>
    /// <typeparam name="TResult">The type of the results.</typeparam>
    /// <param name="items">The inputs, enumerated lazily on the consumer's side.</param>
    /// <param name="function">The function to run for each input.</param>
    /// <param name="retries">How many times a failing call is retried: <c>3</c> means up to four calls in all.</param>
    /// <param name="cancellationToken">Cancels the stream (as does the token given to <c>WithCancellation</c>).</param>
    /// <returns>The results, in input order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="items"/> or <paramref name="function"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="retries"/> is negative.</exception>
    /// <exception cref="ExecutorShutdownException">
    /// The executor has been shut down: thrown at once, or, if the shutdown happens while the stream runs, by the
    /// enumeration once it has streamed the results of the inputs accepted before the shutdown.
    /// </exception>
    public IAsyncEnumerable<TResult> MapIterAsync<T, TResult>(
        IEnumerable<T> items,
        Func<T, CancellationToken, Task<TResult>> function,
        int retries = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(function);
        ArgumentOutOfRangeException.ThrowIfNegative(retries);
        ThrowIfShutdown();

        return MapIterCoreAsync(items, new ItemInvoker<T, TResult>(function, CreateRetryPipeline(retries)), cancellationToken);
    }

    /// <summary>
    /// Stops accepting work. Jobs already accepted still run unless <paramref name="cancelPending"/> is
    /// <see langword="true"/>. Calling it again is allowed (for example to cancel, or to wait, after a first call).
    /// </summary>
    /// <param name="wait">
    /// <see langword="true"/> to return a task that completes when every accepted job has finished;
    /// <see langword="false"/> to return a completed task at once (see <see cref="Completion"/>).
    /// </param>
    /// <param name="cancelPending">
    /// <see langword="true"/> to cancel the jobs still waiting in the queue (their tasks end canceled and they never
    /// run) and to cancel the token of the jobs that are running.
    /// </param>
    /// <returns>A task that completes as described for <paramref name="wait"/>.</returns>
    public Task ShutdownAsync(bool wait = true, bool cancelPending = false)
    {
        if (Interlocked.Exchange(ref _shutdown, 1) == 0)
        {
            _queue.Complete();
            ExecutorLog.ShutdownRequested(_logger, wait, cancelPending);
        }

        if (cancelPending)
        {
            CancelPending();
        }

        return wait ? WaitForWorkersAsync() : Task.CompletedTask;
    }

    /// <summary>Shuts the executor down gracefully: queued jobs still run, and this waits until all have finished.</summary>
    /// <returns>A task that completes when every accepted job has finished.</returns>
    public async ValueTask DisposeAsync() => await ShutdownAsync(wait: true, cancelPending: false).ConfigureAwait(false);

    private static AsyncExecutorOptions CreateOptions(int maxWorkers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWorkers, 1);
        return new AsyncExecutorOptions { MaxWorkers = maxWorkers };
    }

    private void ThrowIfShutdown()
    {
        if (IsShutdown)
        {
            throw ExecutorErrors.Shutdown();
        }
    }

    private void CancelPending()
    {
        // Cancel first, so that a job the link is handing to a worker right now is dropped by the worker.
        ExecutorCancellation.CancelQuietly(_cancelPending, _logger);

        if (_queue.TryReceiveAll(out IList<ExecutorJob>? queued))
        {
            int cancelled = 0;
            foreach (ExecutorJob job in queued)
            {
                if (job.TryCancel(_cancelPendingToken))
                {
                    cancelled++;
                }
            }

            ExecutorLog.QueuedJobsCancelled(_logger, cancelled);
        }
    }

    private async Task WaitForWorkersAsync()
    {
        await _workers.Completion.ConfigureAwait(false);
        ExecutorLog.ShutdownCompleted(_logger);
    }

    private ResiliencePipeline? CreateRetryPipeline(int retries)
    {
        if (retries == 0)
        {
            return null;
        }

        ILogger logger = _logger;
        var retry = new RetryStrategyOptions
        {
            MaxRetryAttempts = retries,
            Delay = _retryDelay,
            BackoffType = _retryBackoffType,
            UseJitter = _useJitter,
            MaxDelay = _maxRetryDelay,
            OnRetry = args =>
            {
                long index = args.Context.Properties.GetValue(ExecutorConstants.ItemIndexKey, -1L);
                ExecutorLog.RetryScheduled(logger, index, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception);
                return default;
            },
        };

        return new ResiliencePipelineBuilder { TimeProvider = _timeProvider }.AddRetry(retry).Build();
    }

    private async IAsyncEnumerable<TResult> MapIterCoreAsync<T, TResult>(
        IEnumerable<T> items,
        ItemInvoker<T, TResult> invoker,
        CancellationToken callerToken,
        [EnumeratorCancellation] CancellationToken enumeratorToken = default)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(callerToken, enumeratorToken, _cancelPendingToken);
        CancellationToken token = cancellation.Token;
        int lookAhead = MaxWorkers * ExecutorConstants.LookAheadPerWorker;
        var window = new Queue<MapItemJob<T, TResult>>(lookAhead);
        using IEnumerator<T> source = items.GetEnumerator();
        bool sourceDone = false;
        bool shutDown = false;
        ExceptionDispatchInfo? sourceError = null;
        long taken = 0;

        try
        {
            Refill();
            while (window.Count > 0)
            {
                // The job stays in the window until its result is in, so that a cancellation while it still waits
                // for a worker (the wait below ends at once) cancels it with the rest in the finally block.
                Task<TResult> next = window.Peek().Completion;
                TResult result = next.IsCompleted
                    ? await next.ConfigureAwait(false)
                    : await next.WaitAsync(token).ConfigureAwait(false);
                window.Dequeue();

                // Hand the freed place to the next input before the consumer runs, so workers stay busy meanwhile.
                Refill();
                yield return result;
            }

            // The results of the inputs taken before a failing one have been streamed: now its exception.
            sourceError?.Throw();

            if (shutDown)
            {
                // The inputs accepted before the shutdown have been streamed; the rest can never run.
                throw ExecutorErrors.Shutdown();
            }
        }
        finally
        {
            // Early exit, failure or cancellation: inputs still queued never start, running ones see their token.
            ExecutorCancellation.CancelQuietly(cancellation, _logger);
            foreach (MapItemJob<T, TResult> job in window)
            {
                job.TryCancel(token);
                ObserveFailure(job.Completion);
            }
        }

        void Refill()
        {
            while (!sourceDone && window.Count < lookAhead)
            {
                token.ThrowIfCancellationRequested();
                T item;
                try
                {
                    if (!source.MoveNext())
                    {
                        sourceDone = true;
                        return;
                    }

                    item = source.Current;
                }
                catch (Exception error)
                {
                    // Thrown when the stream reaches this input; the enumerator is never called again.
                    sourceError = ExceptionDispatchInfo.Capture(error);
                    sourceDone = true;
                    return;
                }

                var job = new MapItemJob<T, TResult>(invoker, item, taken++, token);
                if (!_queue.Post(job))
                {
                    job.TryCancel(token);
                    sourceDone = shutDown = true;
                    return;
                }

                window.Enqueue(job);
            }
        }
    }

    /// <summary>Marks a failure nobody will await as observed, so it does not surface as an unobserved exception.</summary>
    private static void ObserveFailure(Task task) =>
        task.ContinueWith(
            static t => _ = t.Exception,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
}
