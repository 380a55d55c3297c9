using System.Threading.Tasks.Dataflow;
using System.Runtime.CompilerServices;
using AntFlow.Dataflow.Building;
using AntFlow.Dataflow.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Execution;

/// <summary>One run of a typed pipeline: feeds items in, and reports every item's outcome to the sink exactly once.</summary>
internal sealed class PipelineEngine<TIn, TOut> : PipelineEngine
{
    private readonly PipelineDefinition<TIn> _definition;
    private readonly IStageRuntime[] _stages;
    private readonly ResultSink<TOut> _sink;
    private readonly Task _completion;
    private long _nextSequence = -1;
    private int _inputCompleted;

    public PipelineEngine(PipelineDefinition<TIn> definition, ResultSink<TOut> sink, ILogger logger)
        : base(definition.TimeProvider, definition.Tracker, logger, definition.CheckpointStore)
    {
        _definition = definition;
        _sink = sink;
        int count = definition.Stages.Count;
        _stages = new IStageRuntime[count];
        for (int i = 0; i < count; i++)
        {
            _stages[i] = definition.Stages[i].CreateRuntime(this, i, isLast: i == count - 1);
        }

        for (int i = 0; i < count - 1; i++)
        {
            _stages[i].ConnectTo(_stages[i + 1]);
        }

        ((IStageOutput<TOut>)_stages[^1]).ConnectTo(sink);
        if (definition.Tracker is { } tracker)
        {
            // Only Completed/Skipped in the last stage makes an item finished for the tracker's bookkeeping.
            tracker.RegisterFinalStage(_stages[^1].Name);
            if (logger is not Microsoft.Extensions.Logging.Abstractions.NullLogger)
            {
                tracker.Logger = logger;
            }
        }

        _completion = CompleteAsync();
    }

    /// <summary>Shows this engine in the observable gauges from now until it completes or <see cref="StopTracking"/>.</summary>
    public void StartTracking() => AntFlowMetrics.Track(this, _completion);

    /// <summary>Removes this engine from the observable gauges (a run may end without its engine completing).</summary>
    public void StopTracking() => AntFlowMetrics.Untrack(this);

    public override IReadOnlyList<IStageRuntime> Stages => _stages;

    /// <summary>Completes when every item fed has come out; faults only on an internal error.</summary>
    public Task Completion => _completion;

    public bool IsInputCompleted => Volatile.Read(ref _inputCompleted) == 1;

    /// <summary>No more input: the first stage completes once it is empty, and the others follow.</summary>
    public void CompleteInput()
    {
        if (Interlocked.Exchange(ref _inputCompleted, 1) == 0)
        {
            _stages[0].CompleteUpstream();
        }
    }

    /// <summary>Feeds items into the first stage, until they run out or feeding stops (the caller's token or a stop).</summary>
    public async Task FeedAsync(IEnumerable<TIn> items, int priority, CancellationToken cancellationToken)
    {
        var input = (IStageInput<TIn>)_stages[0];
        using CancellationTokenSource? linked = LinkToStop(cancellationToken, out CancellationToken sendToken);
        foreach (TIn item in items)
        {
            ThrowIfInputCompleted();
            if (!await FeedOneAsync(input, item, priority, cancellationToken, sendToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <inheritdoc cref="FeedAsync(IEnumerable{TIn}, int, CancellationToken)"/>
    public async Task FeedAsync(IAsyncEnumerable<TIn> items, int priority, CancellationToken cancellationToken)
    {
        var input = (IStageInput<TIn>)_stages[0];
        using CancellationTokenSource? linked = LinkToStop(cancellationToken, out CancellationToken sendToken);
        await foreach (TIn item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            ThrowIfInputCompleted();
            if (!await FeedOneAsync(input, item, priority, cancellationToken, sendToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Feeds items into a later stage; the caller has checked that <typeparamref name="T"/> is its input type.</summary>
    public async Task FeedStageAsync<T>(IStageInput<T> input, IEnumerable<T> items, int priority, CancellationToken cancellationToken)
    {
        using CancellationTokenSource? linked = LinkToStop(cancellationToken, out CancellationToken sendToken);
        foreach (T item in items)
        {
            ThrowIfInputCompleted();
            long sequence = Interlocked.Increment(ref _nextSequence);
            var envelope = new Envelope<T>(new ItemTicket(id: null, sequence, priority, injected: true), attempt: 1, maxAttempt: 1, skipped: false, item);
            if (!await EnterAsync(input, envelope, cancellationToken, sendToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>
    /// An item arrives after CompleteAsync: it must not enter a run that is finishing. Only the interactive form can get
    /// here (the other runs complete their input once feeding has ended). After a stop, the item is let through to come
    /// out cancelled, and feeding ends quietly.
    /// </summary>
    private void ThrowIfInputCompleted()
    {
        if (IsInputCompleted && !IsStopping)
        {
            throw new InvalidOperationException("No more items can be fed: CompleteAsync was called.");
        }
    }

    /// <summary>Feeds one item into the first stage; false when feeding should stop (cancelled or stopping).</summary>
    /// <param name="input">The first stage.</param>
    /// <param name="item">The item.</param>
    /// <param name="priority">Its priority.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <param name="sendToken">Cancelled by the caller's token or a stop (see <see cref="LinkToStop"/>), for waiting on a full queue.</param>
    public ValueTask<bool> FeedOneAsync(IStageInput<TIn> input, TIn item, int priority, CancellationToken cancellationToken, CancellationToken sendToken)
    {
        long sequence = Interlocked.Increment(ref _nextSequence);
        object? id;
        try
        {
            // Without a selector the id is the sequence number, which the ticket boxes only if something asks for it.
            id = _definition.IdSelector is { } selector
                ? selector(item) ?? throw new InvalidOperationException($"The id selector returned null for the item at position {sequence}.")
                : null;
        }
        catch (Exception error)
        {
            // The item cannot enter without an id; it is reported as failed at the first stage, under its position.
            CountFed();
            return ReportRejectedAsync(sequence, input.Name, error, ItemStatus.Failed);
        }

        return EnterAsync(input, new Envelope<TIn>(new ItemTicket(id, sequence, priority, injected: false), attempt: 1, maxAttempt: 1, skipped: false, item), cancellationToken, sendToken);
    }

    protected override ValueTask EmitFailureAsync(object id, long sequence, int attempts, string stage, Exception error, ItemStatus status) =>
        _sink.EmitAsync(PipelineResult<TOut>.Failure(id, sequence, status, error, stage, attempts));

    public override ValueTask EmitCheckpointSkipAsync(object id, long sequence) =>
        _sink.EmitAsync(PipelineResult<TOut>.Success(id, sequence, default!, attempts: 1, skipped: true));

    private async ValueTask<bool> ReportRejectedAsync(long sequence, string stage, Exception error, ItemStatus status)
    {
        await EndAsync(sequence, sequence, 1, stage, error, status).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// The token a feeding loop waits on when a queue is full: the caller's token and the stop signal, linked once per
    /// loop rather than once per wait. Dispose the returned source (null when no link was needed) when the loop ends.
    /// </summary>
    public CancellationTokenSource? LinkToStop(CancellationToken cancellationToken, out CancellationToken sendToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            sendToken = StopToken;
            return null;
        }

        CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, StopToken);
        sendToken = linked.Token;
        return linked;
    }

    private ValueTask<bool> EnterAsync<T>(IStageInput<T> input, Envelope<T> envelope, CancellationToken cancellationToken, CancellationToken sendToken)
    {
        CountFed();
        input.Enter();
        if (IsStopping || cancellationToken.IsCancellationRequested)
        {
            return RejectAsync(input, envelope, cancellationToken);
        }

        if (Tracker is not null)
        {
            return EnterTrackedAsync(input, envelope, cancellationToken, sendToken);
        }

        return input.Queue.Post(envelope) ? new ValueTask<bool>(true) : SendSlowAsync(input, envelope, cancellationToken, sendToken);
    }

    private async ValueTask<bool> EnterTrackedAsync<T>(IStageInput<T> input, Envelope<T> envelope, CancellationToken cancellationToken, CancellationToken sendToken)
    {
        await Tracker!.RecordAsync(new StatusRecord(envelope.Id, ItemStatus.Queued, input.Name, Worker: null, TimeProvider.GetUtcNow(), EmptyMetadata.Instance)).ConfigureAwait(false);
        return input.Queue.Post(envelope) || await SendSlowAsync(input, envelope, cancellationToken, sendToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendSlowAsync<T>(IStageInput<T> input, Envelope<T> envelope, CancellationToken cancellationToken, CancellationToken sendToken)
    {
        try
        {
            if (await input.Queue.SendAsync(envelope, sendToken).ConfigureAwait(false))
            {
                return true;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return await RejectAsync(input, envelope, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An item that was fed but could not enter: it comes out once, as Cancelled.</summary>
    private async ValueTask<bool> RejectAsync<T>(IStageInput<T> input, Envelope<T> envelope, CancellationToken cancellationToken)
    {
        if (Tracker is not null)
        {
            await Tracker.RecordAsync(new StatusRecord(envelope.Id, ItemStatus.Cancelled, input.Name, Worker: null, TimeProvider.GetUtcNow(), EmptyMetadata.Instance)).ConfigureAwait(false);
        }

        var error = new OperationCanceledException("The item was fed while the pipeline was stopping.", null, cancellationToken.IsCancellationRequested ? cancellationToken : StopToken);
        await EndAsync(envelope.Id, envelope.Sequence, 1, input.Name, error, ItemStatus.Cancelled).ConfigureAwait(false);
        input.Leave();
        return false;
    }

    private async Task CompleteAsync()
    {
        Exception? error = null;
        try
        {
            await _stages[^1].Completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = ex;
        }

        _sink.Complete(error);
        if (error is not null)
        {
            throw error;
        }

        PipelineLog.PipelineFinished(Logger, Processed, Failed, Cancelled, TimeProvider.GetElapsedTime(StartTimestamp));
    }
}
