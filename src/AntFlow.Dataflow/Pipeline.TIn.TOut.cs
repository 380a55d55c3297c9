using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Dataflow;
using AntFlow.Dataflow.Building;
using AntFlow.Dataflow.Diagnostics;
using AntFlow.Dataflow.Execution;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AntFlow.Dataflow;

/// <summary>
/// A multi-stage pipeline with a pool of workers per stage, built with <see cref="Pipeline.Create{T}"/>. Run it over a
/// sequence (<see cref="RunAsync(IEnumerable{TIn}, CancellationToken)"/>, <see cref="StreamAsync"/>), drive it
/// interactively (<see cref="Start"/>, <c>FeedAsync</c>, <see cref="CompleteAsync"/>), or embed it in a Dataflow graph
/// (<see cref="AsBlock"/>). Every item fed in comes out exactly once: as a result, a failure, a skip or a cancellation.
/// </summary>
/// <typeparam name="TIn">The input type of the first stage.</typeparam>
/// <typeparam name="TOut">The output type of the last stage.</typeparam>
public sealed class Pipeline<TIn, TOut> : IPipelineMonitor, IAsyncDisposable
{
    private readonly PipelineDefinition<TIn> _definition;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly IReadOnlyDictionary<string, IReadOnlyList<string>> _workerNames;
    private PipelineEngine<TIn, TOut> _engine; // protected by _lock for writes; read freely by monitoring queries
    private CollectingResultSink<TOut>? _results; // protected by _lock
    private RunState _state; // protected by _lock
    private BufferBlock<TIn>? _embeddedInput; // protected by _lock; the input of the AsBlock() run, if any
    private BlockResultSink<TOut>? _embeddedSink; // protected by _lock; where the AsBlock() run's results go, if any

    internal Pipeline(PipelineDefinition<TIn> definition)
    {
        _definition = definition;
        _logger = definition.LoggerFactory is { } loggerFactory ? QuietLogger.Wrap(loggerFactory.CreateLogger("AntFlow.Dataflow.Pipeline")) : NullLogger.Instance;
        _workerNames = definition.Stages.ToDictionary(
            s => s.Name,
            s => (IReadOnlyList<string>)Enumerable.Range(0, s.Settings.Workers).Select(i => $"{s.Name}-W{i}").ToArray(),
            StringComparer.Ordinal);
        _engine = CreateEngine(new CollectingResultSink<TOut>(keep: false));
    }

    private enum RunState
    {
        Idle,
        Running,
        Started,
        Completing,
        Embedded,
    }

    /// <summary>Gets the stage names, in order.</summary>
    public IReadOnlyList<string> StageNames => _definition.Stages.Select(s => s.Name).ToArray();

    /// <summary>Gets the results collected by the interactive run (or the last <c>RunAsync</c>), in input order; empty with <c>CollectResults(false)</c>.</summary>
    public IReadOnlyList<PipelineResult<TOut>> Results
    {
        get
        {
            CollectingResultSink<TOut>? results;
            lock (_lock)
            {
                results = _results;
            }

            return results?.GetResults() ?? [];
        }
    }

    /// <summary>Runs every item through the pipeline and returns one result per item, in input order.</summary>
    /// <param name="items">The input; enumerated lazily, with backpressure (at most the queue capacities are held).</param>
    /// <param name="cancellationToken">Stops the run promptly: running tasks see the cancellation, queued items are dropped as cancelled.</param>
    /// <returns>The results in input order (empty with <c>CollectResults(false)</c>).</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">The pipeline is already running.</exception>
    public Task<IReadOnlyList<PipelineResult<TOut>>> RunAsync(IEnumerable<TIn> items, CancellationToken cancellationToken = default) =>
        RunCoreAsync(items, options: null, cancellationToken);

    /// <summary>Runs every item through the pipeline, driving <see cref="RunOptions.Display"/> from the first item on.</summary>
    /// <param name="items">The input; enumerated lazily, with backpressure.</param>
    /// <param name="options">The display and its update interval.</param>
    /// <param name="cancellationToken">Stops the run promptly.</param>
    /// <returns>The results in input order.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">The pipeline is already running.</exception>
    public Task<IReadOnlyList<PipelineResult<TOut>>> RunAsync(IEnumerable<TIn> items, RunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return RunCoreAsync(items, options, cancellationToken);
    }

    /// <summary>Runs every item through the pipeline and yields results in completion order, failures included.</summary>
    /// <param name="items">The input; enumerated lazily, with backpressure.</param>
    /// <param name="cancellationToken">Stops the run promptly; the enumeration then throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The results as items finish. Breaking out of the loop stops the pipeline and frees its workers.</returns>
    public async IAsyncEnumerable<PipelineResult<TOut>> StreamAsync(IEnumerable<TIn> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var sink = new ChannelResultSink<TOut>(capacity: 256);
        PipelineEngine<TIn, TOut> engine = BeginRun(sink, RunState.Running, collect: null);
        Task<Exception?> feeding = Task.Run(() => FeedAllAsync(engine, items, cancellationToken), CancellationToken.None);
        try
        {
            using CancellationTokenRegistration registration = cancellationToken.Register(static e => ((PipelineEngine)e!).Stop(), engine);
            await foreach (PipelineResult<TOut> result in sink.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return result;
            }

            if (await feeding.ConfigureAwait(false) is { } feedError)
            {
                ExceptionDispatchInfo.Throw(feedError);
            }
        }
        finally
        {
            // Reached on completion, on cancellation and when the consumer breaks out: stop whatever is left and
            // wait for the workers to let go, so nothing keeps running after the loop.
            if (!engine.Completion.IsCompleted)
            {
                engine.Stop();
                sink.Abandon();
            }

            await feeding.ConfigureAwait(false);
            await engine.Completion.ConfigureAwait(false);
            EndRun(engine);
        }
    }

    /// <summary>Starts the pipeline for interactive use: feed it with <c>FeedAsync</c>, then call <see cref="CompleteAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">The pipeline was already started or is running.</exception>
    public void Start()
    {
        BeginRun(null, RunState.Started, collect: new CollectingResultSink<TOut>(_definition.CollectResults));
        PipelineLog.PipelineStarted(_logger, string.Join(" -> ", StageNames));
    }

    /// <summary>Feeds items into the first stage.</summary>
    /// <param name="items">The items.</param>
    /// <param name="priority">Lower is served first; FIFO among equal priorities. The default is 100.</param>
    /// <param name="cancellationToken">Stops feeding; items not yet fed in are not fed.</param>
    /// <returns>A task that completes when every item has entered the first stage's queue.</returns>
    /// <exception cref="InvalidOperationException">The pipeline is not started, or input was completed.</exception>
    public async Task FeedAsync(IEnumerable<TIn> items, int priority = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        PipelineEngine<TIn, TOut> engine = GetFeedableEngine();
        cancellationToken.ThrowIfCancellationRequested();
        await engine.FeedAsync(items, priority, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Feeds items into the stage named <paramref name="targetStage"/>, skipping the stages before it.</summary>
    /// <typeparam name="T">The target stage's input type.</typeparam>
    /// <param name="items">The items.</param>
    /// <param name="targetStage">The name of the stage to feed.</param>
    /// <param name="priority">Lower is served first. The default is 100.</param>
    /// <param name="cancellationToken">Stops feeding.</param>
    /// <returns>A task that completes when every item has entered the stage's queue.</returns>
    /// <exception cref="ArgumentException">No stage has that name, or its input type is not <typeparamref name="T"/>.</exception>
    /// <exception cref="InvalidOperationException">The pipeline is not started, or input was completed.</exception>
    public async Task FeedAsync<T>(IEnumerable<T> items, string targetStage, int priority = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(targetStage);
        IStageRuntime? stage = _engine.Stages.FirstOrDefault(s => s.Name == targetStage);
        if (stage is null)
        {
            throw new ArgumentException(
                $"The pipeline has no stage named '{targetStage}'. Stages: {string.Join(", ", StageNames.Select(n => $"'{n}'"))}.", nameof(targetStage));
        }

        PipelineEngine<TIn, TOut> engine = GetFeedableEngine();
        if (engine.Stages[stage.Index] is not IStageInput<T> input)
        {
            throw new ArgumentException(
                $"Stage '{targetStage}' takes {stage.InputType.Name} items, not {typeof(T).Name}.", nameof(items));
        }

        cancellationToken.ThrowIfCancellationRequested();
        await engine.FeedStageAsync(input, items, priority, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Feeds items from an asynchronous sequence into the first stage, with the default priority.</summary>
    /// <param name="items">The items.</param>
    /// <param name="cancellationToken">Stops feeding.</param>
    /// <returns>A task that completes when the sequence is exhausted and every item has entered the first stage's queue.</returns>
    /// <exception cref="InvalidOperationException">The pipeline is not started, or input was completed.</exception>
    public Task FeedAsync(IAsyncEnumerable<TIn> items, CancellationToken cancellationToken = default) =>
        FeedAsync(items, StageDefaults.Priority, cancellationToken);

    /// <summary>Feeds items from an asynchronous sequence into the first stage.</summary>
    /// <param name="items">The items.</param>
    /// <param name="priority">Lower is served first.</param>
    /// <param name="cancellationToken">Stops feeding.</param>
    /// <returns>A task that completes when the sequence is exhausted and every item has entered the first stage's queue.</returns>
    /// <exception cref="InvalidOperationException">The pipeline is not started, or input was completed.</exception>
    public async Task FeedAsync(IAsyncEnumerable<TIn> items, int priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        PipelineEngine<TIn, TOut> engine = GetFeedableEngine();
        cancellationToken.ThrowIfCancellationRequested();
        await engine.FeedAsync(items, priority, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Signals that no more items will be fed, and waits until every fed item has come out.</summary>
    /// <returns>A task that completes when the pipeline is empty.</returns>
    /// <exception cref="InvalidOperationException">The pipeline was not started.</exception>
    public async Task CompleteAsync()
    {
        PipelineEngine<TIn, TOut> engine;
        lock (_lock)
        {
            if (_state is not (RunState.Started or RunState.Completing))
            {
                throw new InvalidOperationException(
                    "CompleteAsync needs a running pipeline started with Start(); this one is not running (never started, or already completed or shut down).");
            }

            _state = RunState.Completing;
            engine = _engine;
        }

        engine.CompleteInput();
        await engine.Completion.ConfigureAwait(false);
        EndRun(engine);
    }

    /// <summary>
    /// Stops the pipeline now: running tasks see their token cancelled, and every item still queued or waiting to
    /// retry comes out once as Cancelled (<see cref="PipelineResult{T}.IsSuccess"/> false, an <see cref="OperationCanceledException"/> error).
    /// For an <see cref="AsBlock"/> run those results go to the block's output, so this waits for room there when the
    /// output is full; use <see cref="DisposeAsync"/> when nobody reads it any more.
    /// </summary>
    /// <returns>A task that completes when every worker has let go.</returns>
    public async Task ShutdownAsync()
    {
        PipelineEngine<TIn, TOut> engine;
        lock (_lock)
        {
            if (_state == RunState.Idle)
            {
                return;
            }

            engine = _engine;
        }

        engine.Stop();
        BufferBlock<TIn>? embeddedInput;
        lock (_lock)
        {
            embeddedInput = _state == RunState.Embedded ? _embeddedInput : null;
            if (_state is RunState.Started or RunState.Completing)
            {
                engine.CompleteInput();
            }
        }

        // An embedded pipeline's input belongs to the graph; stop accepting from it so the pump can finish (what is
        // still buffered comes out as cancelled).
        embeddedInput?.Complete();

        try
        {
            await engine.Completion.ConfigureAwait(false);
        }
        finally
        {
            EndRun(engine);
        }
    }

    /// <summary>
    /// Returns the pipeline as a Dataflow block, to sit inside an existing graph: items posted to it are fed in, results
    /// (failures included) come out in completion order. Honours <c>LinkTo</c>, <c>PropagateCompletion</c>,
    /// <c>Complete()</c>, <c>Fault()</c> and <c>Completion</c>; its input is bounded by the first stage's queue capacity.
    /// </summary>
    /// <returns>The block. No <see cref="Start"/> is needed.</returns>
    /// <exception cref="InvalidOperationException">The pipeline is already running.</exception>
    public IPropagatorBlock<TIn, PipelineResult<TOut>> AsBlock()
    {
        int capacity = _definition.Stages[0].Settings.EffectiveQueueCapacity;
        var input = new BufferBlock<TIn>(new DataflowBlockOptions { BoundedCapacity = capacity });
        var output = new BufferBlock<PipelineResult<TOut>>(new DataflowBlockOptions { BoundedCapacity = Math.Max(capacity, 64) });
        var sink = new BlockResultSink<TOut>(output);
        PipelineEngine<TIn, TOut> engine = BeginRun(sink, RunState.Embedded, collect: null);
        lock (_lock)
        {
            _embeddedInput = input;
            _embeddedSink = sink;
        }

        // Fault() on the block stops the run at once, even while the pump waits for room in the first queue.
        input.Completion.ContinueWith(
            static (completion, state) => ((PipelineEngine<TIn, TOut>)state!).Stop(),
            engine,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        // The pump ends when the block's input completes (or faults) and every item has come out; it never throws.
        _ = PumpAsync(engine, input, sink);
        return DataflowBlock.Encapsulate(input, output);
    }

    /// <summary>
    /// Stops the pipeline if it is still running (see <see cref="ShutdownAsync"/>). Results of an <see cref="AsBlock"/>
    /// run that no longer fit in its full output are dropped rather than waited for.
    /// </summary>
    /// <returns>A task that completes when every worker has let go.</returns>
    public async ValueTask DisposeAsync()
    {
        // Disposing also gives up on an AsBlock() output nobody reads any more; a plain ShutdownAsync keeps
        // delivering every result (cancelled ones included) to a reader that is still there.
        BlockResultSink<TOut>? embeddedSink;
        lock (_lock)
        {
            embeddedSink = _embeddedSink;
        }

        embeddedSink?.Abandon();
        await ShutdownAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, WorkerState> GetWorkerStates() => PipelineMonitorView.GetWorkerStates(_engine);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, WorkerMetrics> GetWorkerMetrics() => PipelineMonitorView.GetWorkerMetrics(_engine);

    /// <inheritdoc />
    public PipelineStats GetStats() => PipelineMonitorView.GetStats(_engine);

    /// <inheritdoc />
    public DashboardSnapshot GetDashboardSnapshot() => PipelineMonitorView.GetSnapshot(_engine);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, IReadOnlyList<string>> GetWorkerNames() => _workerNames;

    /// <inheritdoc />
    public ErrorSummary GetErrorSummary() => _engine.GetErrorSummary();

    private async Task<IReadOnlyList<PipelineResult<TOut>>> RunCoreAsync(IEnumerable<TIn> items, RunOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var sink = new CollectingResultSink<TOut>(_definition.CollectResults);
        PipelineEngine<TIn, TOut> engine = BeginRun(sink, RunState.Running, collect: sink);
        try
        {
            using CancellationTokenRegistration registration = cancellationToken.Register(static e => ((PipelineEngine)e!).Stop(), engine);
            DisplayDriver? display = options?.Display is { } d
                ? DisplayDriver.Start(d, this, items.TryGetNonEnumeratedCount(out int count) ? count : null, options.UpdateInterval, _definition.TimeProvider, _logger)
                : null;
            Exception? feedError;
            try
            {
                feedError = await FeedAllAsync(engine, items, cancellationToken).ConfigureAwait(false);
                await engine.Completion.ConfigureAwait(false);
            }
            finally
            {
                if (display is not null)
                {
                    await display.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (feedError is not null)
            {
                ExceptionDispatchInfo.Throw(feedError);
            }

            cancellationToken.ThrowIfCancellationRequested();
            return sink.GetResults();
        }
        finally
        {
            EndRun(engine);
        }
    }

    /// <summary>Feeds everything, then completes the input. Returns the input's own exception, if enumerating it threw.</summary>
    private static async Task<Exception?> FeedAllAsync(PipelineEngine<TIn, TOut> engine, IEnumerable<TIn> items, CancellationToken cancellationToken)
    {
        Exception? error = null;
        try
        {
            await engine.FeedAsync(items, StageDefaults.Priority, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The input sequence itself failed: stop, let what was fed come out, then report it to the caller.
            error = ex;
            engine.Stop();
        }

        engine.CompleteInput();
        return error;
    }

    private async Task PumpAsync(PipelineEngine<TIn, TOut> engine, BufferBlock<TIn> input, BlockResultSink<TOut> sink)
    {
        var first = (IStageInput<TIn>)engine.Stages[0];
        try
        {
            while (await input.OutputAvailableAsync().ConfigureAwait(false))
            {
                while (input.TryReceive(out TIn? item))
                {
                    await engine.FeedOneAsync(first, item, StageDefaults.Priority, CancellationToken.None, engine.StopToken).ConfigureAwait(false);
                }
            }

            await input.Completion.ConfigureAwait(false);
        }
        catch (Exception error)
        {
            // Fault() on the block: stop, let what was fed in come out as cancelled, then fault the output.
            sink.FaultOnCompletion(input.Completion.Exception?.GetBaseException() ?? error);
            engine.Stop();
        }

        engine.CompleteInput();
        try
        {
            await engine.Completion.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already forwarded to the output block by the sink.
        }

        EndRun(engine);
    }

    private PipelineEngine<TIn, TOut> CreateEngine(ResultSink<TOut> sink) => new(_definition, sink, _logger);

    private PipelineEngine<TIn, TOut> BeginRun(ResultSink<TOut>? sink, RunState state, CollectingResultSink<TOut>? collect)
    {
        lock (_lock)
        {
            if (_state != RunState.Idle)
            {
                throw new InvalidOperationException(_state switch
                {
                    RunState.Started or RunState.Completing => "The pipeline was started with Start(); feed it with FeedAsync and finish with CompleteAsync or ShutdownAsync before running it again.",
                    RunState.Embedded => "The pipeline is in use as a Dataflow block (AsBlock).",
                    _ => "The pipeline is already running; a pipeline runs one batch at a time.",
                });
            }

            _engine = CreateEngine(sink ?? collect!);
            _engine.StartTracking();
            _results = collect ?? _results;
            _state = state;
            return _engine;
        }
    }

    private PipelineEngine<TIn, TOut> GetFeedableEngine()
    {
        lock (_lock)
        {
            return _state switch
            {
                RunState.Started => _engine,
                RunState.Completing => throw new InvalidOperationException("No more items can be fed: CompleteAsync was called."),
                RunState.Idle => throw new InvalidOperationException(
                    "The pipeline is not running: call Start() before FeedAsync (after CompleteAsync or ShutdownAsync, Start() begins a new run)."),
                _ => throw new InvalidOperationException("FeedAsync is for pipelines started with Start(); this one is running RunAsync, StreamAsync or AsBlock."),
            };
        }
    }

    private void EndRun(PipelineEngine<TIn, TOut>? engine = null)
    {
        lock (_lock)
        {
            if (engine is null || ReferenceEquals(engine, _engine))
            {
                _engine.StopTracking();
                _state = RunState.Idle;
                _embeddedInput = null;
                _embeddedSink = null;
            }
        }
    }
}
