using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Dataflow;
using AntFlow.Dataflow.Building;
using AntFlow.Dataflow.Diagnostics;
using Polly;
using Polly.Retry;

namespace AntFlow.Dataflow.Execution;

/// <summary>
/// A stage at run time: a bounded queue block feeding a TransformBlock whose MaxDegreeOfParallelism is the worker
/// count. The transform delegate is the instrumentation wrapper: it takes a worker slot, runs the tasks, records
/// what happened, and never throws, so one bad item never faults a block.
/// </summary>
/// <remarks>
/// Completion: items can come back into the queue (per-stage retry), so the queue is completed explicitly once
/// upstream is complete and no item of this stage is left (<see cref="_inStage"/> counts items from the moment they
/// are handed to the stage until they leave it: passed on, finished, failed or cancelled).
/// </remarks>
internal sealed class StageRuntime<TIn, TOut> : IStageRuntime, IStageInput<TIn>, IStageOutput<TOut>, ITaskRunner
{
    private static readonly ResiliencePropertyKey<WorkerSlot> SlotKey = new("AntFlow.WorkerSlot");

    private readonly PipelineEngine _engine;
    private readonly StageDefinition<TIn, TOut> _definition;
    private readonly StageSettings _settings;
    private readonly bool _isLast;
    private readonly PriorityBufferBlock<Envelope<TIn>> _queue;
    private readonly TransformBlock<Envelope<TIn>, Envelope<TOut>> _workers;
    private readonly WorkerSlot[] _slots;
    private readonly ResiliencePipeline? _taskRetry;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RateGate? _stageRate;
    private readonly Dictionary<string, RateGate>? _taskRates;
    private readonly bool _hasTaskPolicies; // retry, timeout, resilience or task rate limits: decided once per stage
    private readonly bool _fastPath; // nothing before or after the tasks needs to await: see ProcessFast
    private IStageInput<TOut>? _next;
    private ResultSink<TOut>? _sink;
    private int _inStage;
    private int _upstreamCompleted;
    private int _waitingForRetry;
    private long _failed;

    public StageRuntime(PipelineEngine engine, StageDefinition<TIn, TOut> definition, int index, bool isLast)
    {
        _engine = engine;
        _definition = definition;
        _settings = definition.Settings;
        _isLast = isLast;
        Index = index;
        int workers = _settings.Workers;
        _slots = new WorkerSlot[workers];
        for (int i = 0; i < workers; i++)
        {
            _slots[i] = new WorkerSlot(this, i, engine.TimeProvider);
        }

        // The backlog waits here in priority order (lowest value first, FIFO among equals).
        _queue = new PriorityBufferBlock<Envelope<TIn>>(static e => e.Priority, new DataflowBlockOptions { BoundedCapacity = _settings.EffectiveQueueCapacity }, offerOnConsumingThread: true);

        // The transform holds only what its workers run, so the backlog waits in the queue and the next item is
        // chosen when a worker frees up.
        _workers = new TransformBlock<Envelope<TIn>, Envelope<TOut>>(Process, new ExecutionDataflowBlockOptions
        {
            MaxDegreeOfParallelism = workers,
            BoundedCapacity = workers,
            EnsureOrdered = false,
            SingleProducerConstrained = true,
        });
        _queue.LinkTo(_workers, new DataflowLinkOptions { PropagateCompletion = true });
        _workers.Completion.ContinueWith(
            static (t, state) => ((StageRuntime<TIn, TOut>)state!).OnWorkersCompleted(t),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        if (_settings.RateLimit is { } rate)
        {
            _stageRate = new RateGate(rate.Permits, rate.Per, engine.TimeProvider);
        }

        if (_settings.TaskRateLimits.Count > 0)
        {
            _taskRates = _settings.TaskRateLimits.ToDictionary(
                static pair => pair.Key, pair => new RateGate(pair.Value.Permits, pair.Value.Per, engine.TimeProvider), StringComparer.Ordinal);
        }

        if (_settings.RetryMode == RetryMode.PerTask && _settings.Attempts > 1)
        {
            _taskRetry = new ResiliencePipelineBuilder { TimeProvider = engine.TimeProvider }
                .AddRetry(new RetryStrategyOptions
                {
                    MaxRetryAttempts = _settings.Attempts - 1,
                    Delay = _settings.RetryDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    ShouldHandle = args => new ValueTask<bool>(args.Outcome.Exception is { } ex && ShouldRetry(ex)),
                    OnRetry = OnTaskRetryAsync,
                })
                .Build();
        }

        _hasTaskPolicies = _taskRetry is not null || _settings.TaskTimeout is not null || _settings.Resilience is not null || _taskRates is not null;

        // The fast path runs the bookkeeping around the tasks without an async state machine; everything that may
        // await (tracker events, checkpoints, rate limits, skip predicates, success callbacks) keeps the full path.
        bool checkpointed = engine.Checkpoint is not null && (index == 0 || isLast);
        _fastPath = engine.Tracker is null && !checkpointed && _stageRate is null && definition.Skip is null && definition.Callbacks.OnSuccess is null;
    }

    public string Name => _settings.Name;

    public int Index { get; }

    public Type InputType => typeof(TIn);

    public IReadOnlyList<WorkerSlot> Workers => _slots;

    public int QueueSize => _queue.Count + Volatile.Read(ref _waitingForRetry);

    /// <summary>Items that finished this stage successfully: every worker counts its own, so items never contend here.</summary>
    public long CompletedItems
    {
        get
        {
            long completed = 0;
            foreach (WorkerSlot slot in _slots)
            {
                completed += slot.ItemsProcessed;
            }

            return completed;
        }
    }

    public long FailedItems => Volatile.Read(ref _failed);

    public Task Completion => _completion.Task;

    public ITargetBlock<Envelope<TIn>> Queue => _queue;

    private StatusTracker? Tracker => _engine.Tracker;

    public void Enter() => Interlocked.Increment(ref _inStage);

    public void Leave()
    {
        if (Interlocked.Decrement(ref _inStage) == 0 && Volatile.Read(ref _upstreamCompleted) == 1)
        {
            _queue.Complete();
        }
    }

    public void CompleteUpstream(Exception? upstreamError = null)
    {
        if (upstreamError is not null)
        {
            ((IDataflowBlock)_queue).Fault(upstreamError);
            return;
        }

        if (Interlocked.Exchange(ref _upstreamCompleted, 1) == 0 && Volatile.Read(ref _inStage) == 0)
        {
            _queue.Complete();
        }
    }

    public void ConnectTo(IStageRuntime next)
    {
        var input = (IStageInput<TOut>)next;
        _next = input;

        // Most items are posted straight to the next queue by the worker; the ones produced while it was full
        // travel through the transform's output, where Dataflow postpones them until there is room.
        // Both links filter: an unfiltered NullTarget would swallow items the next queue postpones while it is full.
        _workers.LinkTo(input.Queue, static e => !e.IsEmpty);
        _workers.LinkTo(DataflowBlock.NullTarget<Envelope<TOut>>(), static e => e.IsEmpty);
        Completion.ContinueWith(
            static (t, state) => ((IStageRuntime)state!).CompleteUpstream(t.Exception?.GetBaseException()),
            next,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public void ConnectTo(ResultSink<TOut> sink)
    {
        _sink = sink;
        _workers.LinkTo(DataflowBlock.NullTarget<Envelope<TOut>>());
    }

    public ValueTask<TTaskOut> RunTaskAsync<TTaskIn, TTaskOut>(TaskDefinition<TTaskIn, TTaskOut> task, TTaskIn input, WorkerSlot slot)
    {
        slot.CurrentTaskName = task.Name;
        slot.StatusText = null;
        bool plain = !_hasTaskPolicies && task.Limiter is null && Tracker?.HasTaskSubscribers != true;
        return plain ? task.InvokeAsync(input, slot.Token) : RunTaskWithPoliciesAsync(task, input, slot);
    }

    /// <summary>The TransformBlock's delegate. Returns null (no output) when the item went elsewhere.</summary>
    private Task<Envelope<TOut>> Process(Envelope<TIn> envelope)
    {
        ValueTask<Envelope<TOut>> processing;
        if (_engine.IsStopping)
        {
            processing = ProcessAsync(envelope, slot: null);
        }
        else
        {
            WorkerSlot slot = AcquireSlot();
            processing = _fastPath ? ProcessFast(envelope, slot) : ProcessAsync(envelope, slot);
        }

        if (!processing.IsCompletedSuccessfully)
        {
            return processing.AsTask();
        }

        Envelope<TOut> output = processing.Result;
        if (output.IsEmpty || _next!.Queue.Post(output))
        {
            // Nothing for the transform to output: Dataflow treats a null task as "no output" and skips the
            // continuation it would otherwise attach.
            return null!;
        }

        return Task.FromResult(output);
    }

    /// <summary>
    /// Runs an item of a stage without tracker, checkpoint, rate limit, skip or success callback: when its tasks
    /// complete synchronously (sync delegates, completed tasks), no state machine runs and nothing is allocated.
    /// Anything still pending continues in <see cref="CompleteFastAsync"/> or <see cref="CompleteSucceedingAsync"/>,
    /// with the same outcomes as <see cref="ProcessAsync"/>.
    /// </summary>
    private ValueTask<Envelope<TOut>> ProcessFast(Envelope<TIn> envelope, WorkerSlot slot)
    {
        // An async method gives the caller its execution context back when it returns; this one is synchronous, so it
        // restores the context itself: the item's activity, worker scope and whatever its tasks set stay with the item.
        ExecutionContext? callerContext = ExecutionContext.Capture();
        if (callerContext is null)
        {
            // The flow is suppressed, so there is no context to restore: the async path handles that.
            return ProcessAsync(envelope, slot);
        }

        long startedAt = _engine.TimeProvider.GetTimestamp();
        slot.Begin(envelope.Ticket, envelope.Attempt, envelope.MaxAttempt, startedAt, _engine.StopToken);
        // The scope first: its cached context is keyed by the caller's, which a new activity would change every item.
        WorkerContext.Enter(slot.ContextScope);
        Activity? activity = AntFlowMetrics.StartItemActivity(Name, envelope.Ticket, envelope.Attempt);
        try
        {
            ValueTask<TOut> running;
            try
            {
                running = _definition.Chain.RunAsync(envelope.Value, slot, this);
            }
            catch (Exception error)
            {
                running = ValueTask.FromException<TOut>(error);
            }

            if (!running.IsCompletedSuccessfully)
            {
                return CompleteFastAsync(envelope, slot, running, startedAt, activity);
            }

            // An async method: whatever it throws comes back in the returned task.
            ValueTask<Envelope<TOut>> succeeding = SucceedAsync(envelope, slot, running.Result, skipped: false);
            if (!succeeding.IsCompletedSuccessfully)
            {
                // For example the result stream is full: the worker waits for room, holding the item.
                return CompleteSucceedingAsync(envelope, slot, succeeding, startedAt, activity);
            }

            EndItem(slot, succeeded: true, cancelled: false, startedAt, activity);
            return succeeding;
        }
        finally
        {
            ExecutionContext.Restore(callerContext);
        }
    }

    /// <summary>The rest of <see cref="ProcessFast"/> when the tasks did not complete synchronously.</summary>
    private async ValueTask<Envelope<TOut>> CompleteFastAsync(Envelope<TIn> envelope, WorkerSlot slot, ValueTask<TOut> running, long startedAt, Activity? activity)
    {
        bool succeeded = false;
        bool cancelled = false;
        try
        {
            TOut output = await running.ConfigureAwait(false);
            succeeded = true;
            return await SucceedAsync(envelope, slot, output, skipped: false).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            cancelled = await FailOrCancelAsync(envelope, slot, error).ConfigureAwait(false);
            return default;
        }
        finally
        {
            EndItem(slot, succeeded, cancelled, startedAt, activity);
        }
    }

    /// <summary>The rest of <see cref="ProcessFast"/> when the tasks completed but passing the item on did not.</summary>
    private async ValueTask<Envelope<TOut>> CompleteSucceedingAsync(Envelope<TIn> envelope, WorkerSlot slot, ValueTask<Envelope<TOut>> succeeding, long startedAt, Activity? activity)
    {
        bool cancelled = false;
        try
        {
            return await succeeding.ConfigureAwait(false);
        }
        catch (Exception error)
        {
            // As in ProcessAsync: a failure while passing the item on fails the item.
            cancelled = await FailOrCancelAsync(envelope, slot, error).ConfigureAwait(false);
            return default;
        }
        finally
        {
            EndItem(slot, succeeded: true, cancelled, startedAt, activity);
        }
    }

    /// <summary>Frees the worker and records the item's time in the stage.</summary>
    /// <param name="slot">The worker.</param>
    /// <param name="succeeded">Whether the item's tasks succeeded.</param>
    /// <param name="cancelled">Whether the item was cancelled by a stop: neither a success nor a failure of the worker.</param>
    /// <param name="startedAt">When the worker took the item.</param>
    /// <param name="activity">The item's activity, if traced.</param>
    private void EndItem(WorkerSlot slot, bool succeeded, bool cancelled, long startedAt, Activity? activity)
    {
        TimeProvider time = _engine.TimeProvider;
        long endedAt = time.GetTimestamp();
        slot.End(succeeded, cancelled, endedAt);
        AntFlowMetrics.RecordItemDuration(Name, time.GetElapsedTime(startedAt, endedAt));
        if (activity is not null)
        {
            activity.SetStatus(succeeded ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
            activity.Dispose();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Envelope<TOut>> ProcessAsync(Envelope<TIn> envelope, WorkerSlot? slot)
    {
        if (slot is null)
        {
            await CancelAsync(envelope, worker: null, new OperationCanceledException(_engine.StopToken)).ConfigureAwait(false);
            return default;
        }

        long startedAt = _engine.TimeProvider.GetTimestamp();
        slot.Begin(envelope.Ticket, envelope.Attempt, envelope.MaxAttempt, startedAt, _engine.StopToken);

        // Visible to the item's tasks (and their continuations) only: the async method restores the caller's context
        // when it returns, so Dataflow's own loops never capture it. The scope goes first, as in ProcessFast.
        WorkerContext.Enter(slot.ContextScope);
        Activity? activity = AntFlowMetrics.StartItemActivity(Name, envelope.Ticket, envelope.Attempt);
        bool succeeded = false;
        bool cancelled = false;
        try
        {
            if (Tracker is not null)
            {
                await TrackAsync(envelope.Id, ItemStatus.InProgress, slot.Name).ConfigureAwait(false);
            }

            if (Index == 0 && envelope.Attempt == 1 && !envelope.Injected && _engine.Checkpoint is { } checkpoint
                && await checkpoint.IsCompletedAsync(envelope.Id, _engine.StopToken).ConfigureAwait(false))
            {
                succeeded = true;
                await FinishSkippedByCheckpointAsync(envelope, slot).ConfigureAwait(false);
                return default;
            }

            if (_stageRate is not null)
            {
                await _stageRate.AcquireAsync(_engine.StopToken).ConfigureAwait(false);
            }

            TOut output;
            bool skipped = false;
            if (_definition.Skip is { } skip && await skip.Predicate(envelope.Value).ConfigureAwait(false))
            {
                output = skip.WhenSkipped(envelope.Value);
                skipped = true;
            }
            else
            {
                output = await _definition.Chain.RunAsync(envelope.Value, slot, this).ConfigureAwait(false);
            }

            succeeded = true;
            return await SucceedAsync(envelope, slot, output, skipped).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            cancelled = await FailOrCancelAsync(envelope, slot, error).ConfigureAwait(false);
            return default;
        }
        finally
        {
            EndItem(slot, succeeded, cancelled, startedAt, activity);
        }
    }

    private async ValueTask<Envelope<TOut>> SucceedAsync(Envelope<TIn> envelope, WorkerSlot slot, TOut output, bool skipped)
    {
        int attempts = Math.Max(envelope.MaxAttempt, slot.MaxAttempt);
        bool skippedAnywhere = envelope.Skipped || skipped;
        AntFlowMetrics.ItemCompleted(Name, skipped);
        if (Tracker is not null)
        {
            await TrackAsync(envelope.Id, skipped ? ItemStatus.Skipped : ItemStatus.Completed, slot.Name).ConfigureAwait(false);
        }

        if (_definition.Callbacks.OnSuccess is { } onSuccess)
        {
            await InvokeCallbackAsync(static state => state.onSuccess(state.Id, state.output), (onSuccess, envelope.Id, output), "OnSuccess", envelope.Id).ConfigureAwait(false);
        }

        if (!_isLast)
        {
            IStageInput<TOut> next = _next!;
            next.Enter();
            if (Tracker is not null)
            {
                await TrackAsync(envelope.Id, ItemStatus.Queued, worker: null, stage: next.Name).ConfigureAwait(false);
            }

            Leave();
            return envelope.Next(output, attempts, skippedAnywhere);
        }

        if (_engine.Checkpoint is { } checkpoint && !envelope.Injected)
        {
            try
            {
                // Not cancelled by a stop: work that is done gets checkpointed, so a resume does not redo it.
                await checkpoint.MarkCompletedAsync(envelope.Id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                PipelineLog.CheckpointFailed(_engine.Logger, envelope.Id, error);
            }
        }

        _engine.CountProcessed(skippedAnywhere);
        if (_sink!.WantsResults)
        {
            await _sink.EmitAsync(PipelineResult<TOut>.Success(envelope.Id, envelope.Sequence, output, attempts, skippedAnywhere)).ConfigureAwait(false);
        }

        Leave();
        return default;
    }

    private async ValueTask FinishSkippedByCheckpointAsync(Envelope<TIn> envelope, WorkerSlot slot)
    {
        AntFlowMetrics.ItemCompleted(Name, skipped: true);
        if (Tracker is not null)
        {
            await TrackAsync(envelope.Id, ItemStatus.Skipped, slot.Name).ConfigureAwait(false);
        }

        // The item finished in an earlier run: it leaves the pipeline here, without running any stage.
        _engine.CountProcessed(skipped: true);
        await _engine.EmitCheckpointSkipAsync(envelope.Id, envelope.Sequence).ConfigureAwait(false);
        Leave();
    }

    /// <summary>
    /// Ends an item whose processing threw: cancelled when a task gave up because the pipeline is stopping, otherwise
    /// failed (or retried). Returns whether it was cancelled, which is neither a success nor a failure of the worker.
    /// </summary>
    private async ValueTask<bool> FailOrCancelAsync(Envelope<TIn> envelope, WorkerSlot slot, Exception error)
    {
        if (error is OperationCanceledException && _engine.IsStopping)
        {
            await CancelAsync(envelope, slot.Name, error).ConfigureAwait(false);
            return true;
        }

        await FailAsync(envelope, slot, error).ConfigureAwait(false);
        return false;
    }

    private async ValueTask FailAsync(Envelope<TIn> envelope, WorkerSlot slot, Exception error)
    {
        int attempt = Math.Max(envelope.Attempt, slot.Attempt);
        await TrackTaskAsync(slot, TaskEventType.Fail, attempt, error).ConfigureAwait(false);
        if (_settings.RetryMode == RetryMode.PerStage && envelope.Attempt < _settings.Attempts && ShouldRetry(error))
        {
            Envelope<TIn> retry = envelope.Retry();
            TimeSpan delay = StageRetryDelay.For(_settings.RetryDelay, envelope.Attempt);
            PipelineLog.ItemRetrying(_engine.Logger, envelope.Id, Name, envelope.Attempt, delay, error);
            AntFlowMetrics.ItemRetried(Name);
            if (Tracker is not null)
            {
                await TrackAsync(envelope.Id, ItemStatus.Retrying, slot.Name, metadata: new Dictionary<string, object?> { [StatusEventMetadata.Attempt] = retry.Attempt })
                    .ConfigureAwait(false);
            }

            // Stays counted in _inStage until it comes back through the queue, so the stage cannot complete meanwhile.
            Interlocked.Increment(ref _waitingForRetry);
            _ = RequeueAsync(retry, delay);
            return;
        }

        int attempts = Math.Max(attempt, Math.Max(envelope.MaxAttempt, slot.MaxAttempt));
        Interlocked.Increment(ref _failed);
        AntFlowMetrics.ItemFailed(Name);
        PipelineLog.ItemFailed(_engine.Logger, envelope.Id, Name, attempts, error);
        if (Tracker is not null)
        {
            await TrackAsync(envelope.Id, ItemStatus.Failed, slot.Name, metadata: new Dictionary<string, object?>
            {
                [StatusEventMetadata.Error] = error.Message,
                [StatusEventMetadata.ErrorType] = error.GetType().Name,
                [StatusEventMetadata.Attempts] = attempts,
                [StatusEventMetadata.Exception] = error,
            }).ConfigureAwait(false);
        }

        if (_definition.Callbacks.OnFailure is { } onFailure)
        {
            await InvokeCallbackAsync(static state => state.onFailure(state.Id, state.error), (onFailure, envelope.Id, error), "OnFailure", envelope.Id).ConfigureAwait(false);
        }

        await _engine.EndAsync(envelope.Id, envelope.Sequence, attempts, Name, error, ItemStatus.Failed).ConfigureAwait(false);
        Leave();
    }

    private async ValueTask CancelAsync(Envelope<TIn> envelope, string? worker, Exception error)
    {
        if (Tracker is not null)
        {
            await TrackAsync(envelope.Id, ItemStatus.Cancelled, worker).ConfigureAwait(false);
        }

        Exception reported = error as OperationCanceledException ?? new OperationCanceledException("The pipeline was stopped.", error);
        await _engine.EndAsync(envelope.Id, envelope.Sequence, envelope.MaxAttempt, Name, reported, ItemStatus.Cancelled).ConfigureAwait(false);
        Leave();
    }

    /// <summary>Waits out the backoff, then puts the item back in this stage's queue. Never throws.</summary>
    private async Task RequeueAsync(Envelope<TIn> envelope, TimeSpan delay)
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _engine.TimeProvider, _engine.StopToken).ConfigureAwait(false);
            }

            if (Tracker is not null)
            {
                await TrackAsync(envelope.Id, ItemStatus.Queued, worker: null).ConfigureAwait(false);
            }

            Interlocked.Decrement(ref _waitingForRetry);
            if (!((ITargetBlock<Envelope<TIn>>)_queue).Post(envelope) && !await _queue.SendAsync(envelope).ConfigureAwait(false))
            {
                // Only a faulted queue declines; the item must still be reported once.
                await CancelAsync(envelope, worker: null, new OperationCanceledException("The stage queue no longer accepts items.")).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException error)
        {
            Interlocked.Decrement(ref _waitingForRetry);
            await CancelAsync(envelope, worker: null, error).ConfigureAwait(false);
        }
    }

    private async ValueTask<TTaskOut> RunTaskWithPoliciesAsync<TTaskIn, TTaskOut>(TaskDefinition<TTaskIn, TTaskOut> task, TTaskIn input, WorkerSlot slot)
    {
        SemaphoreSlim? limiter = task.Limiter;
        if (limiter is not null)
        {
            await limiter.WaitAsync(slot.Token).ConfigureAwait(false);
        }

        try
        {
            if (_taskRetry is null)
            {
                return await RunTaskOnceAsync(task, input, slot, slot.Token).ConfigureAwait(false);
            }

            ResilienceContext context = ResilienceContextPool.Shared.Get(slot.Token);
            context.Properties.Set(SlotKey, slot);
            try
            {
                return await _taskRetry.ExecuteAsync(
                    static (ctx, state) => state.Runtime.RunTaskOnceAsync(state.Task, state.Input, state.Slot, ctx.CancellationToken),
                    context,
                    (Runtime: this, Task: task, Input: input, Slot: slot)).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }
        finally
        {
            limiter?.Release();
        }
    }

    private async ValueTask<TTaskOut> RunTaskOnceAsync<TTaskIn, TTaskOut>(TaskDefinition<TTaskIn, TTaskOut> task, TTaskIn input, WorkerSlot slot, CancellationToken cancellationToken)
    {
        slot.CurrentTaskName = task.Name;
        if (_taskRates is not null && _taskRates.TryGetValue(task.Name, out RateGate? rate))
        {
            await rate.AcquireAsync(cancellationToken).ConfigureAwait(false);
        }

        slot.TaskStarted = _engine.TimeProvider.GetTimestamp();
        await TrackTaskAsync(slot, TaskEventType.Start, slot.Attempt, error: null).ConfigureAwait(false);
        TTaskOut result;
        if (_settings.TaskTimeout is { } timeout)
        {
            using var timeoutSource = new CancellationTokenSource(timeout, _engine.TimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
            try
            {
                result = await InvokeAsync(task, input, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Task '{task.Name}' of stage '{Name}' timed out after {timeout}.", ex);
            }
        }
        else
        {
            result = await InvokeAsync(task, input, cancellationToken).ConfigureAwait(false);
        }

        await TrackTaskAsync(slot, TaskEventType.Complete, slot.Attempt, error: null).ConfigureAwait(false);
        return result;
    }

    private ValueTask<TTaskOut> InvokeAsync<TTaskIn, TTaskOut>(TaskDefinition<TTaskIn, TTaskOut> task, TTaskIn input, CancellationToken cancellationToken) =>
        _settings.Resilience is { } resilience
            ? resilience.ExecuteAsync(static (state, token) => state.task.InvokeAsync(state.input, token), (task, input), cancellationToken)
            : task.InvokeAsync(input, cancellationToken);

    private async ValueTask OnTaskRetryAsync(OnRetryArguments<object> args)
    {
        if (!args.Context.Properties.TryGetValue(SlotKey, out WorkerSlot? slot))
        {
            return;
        }

        // Polly numbers attempts from 0; ours count calls from 1, and this is the attempt about to start.
        int next = args.AttemptNumber + 2;
        Exception? error = args.Outcome.Exception;
        await TrackTaskAsync(slot, TaskEventType.Retry, next - 1, error).ConfigureAwait(false);
        slot.Attempt = next;
        slot.MaxAttempt = Math.Max(slot.MaxAttempt, next);
        object? itemId = slot.CurrentItemId;
        AntFlowMetrics.ItemRetried(Name);
        if (itemId is not null)
        {
            PipelineLog.ItemRetrying(_engine.Logger, itemId, Name, next - 1, args.RetryDelay, error!);
            if (Tracker is not null)
            {
                await TrackAsync(itemId, ItemStatus.Retrying, slot.Name, metadata: new Dictionary<string, object?> { [StatusEventMetadata.Attempt] = next })
                    .ConfigureAwait(false);
            }
        }
    }

    private bool ShouldRetry(Exception error)
    {
        if (error is OperationCanceledException && _engine.IsStopping)
        {
            return false;
        }

        try
        {
            return _settings.RetryOn?.Invoke(error) ?? true;
        }
        catch (Exception predicateError)
        {
            PipelineLog.CallbackFailed(_engine.Logger, "retryOn", Name, error.GetType().Name, predicateError);
            return false;
        }
    }

    private WorkerSlot AcquireSlot()
    {
        // MaxDegreeOfParallelism equals the slot count and every path frees its slot before the transform sees the
        // item finish, so the first pass finds a free slot. The extra passes only guard against a broken invariant:
        // failing loudly beats spinning a worker thread forever.
        WorkerSlot[] slots = _slots;
        SpinWait spinner = default;
        for (int pass = 0; pass < 20; pass++)
        {
            for (int i = 0; i < slots.Length; i++)
            {
                if (slots[i].TryAcquire())
                {
                    return slots[i];
                }
            }

            spinner.SpinOnce();
        }

        throw new InvalidOperationException($"Stage '{Name}' found no free worker slot although its transform runs at most {slots.Length} items; this is a bug in AntFlow.Dataflow.");
    }

    private async ValueTask InvokeCallbackAsync<TState>(Func<TState, Task> callback, TState state, string name, object itemId)
    {
        try
        {
            // Invoked inside the try: a callback that throws before returning its task is caught too.
            await callback(state).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            PipelineLog.CallbackFailed(_engine.Logger, name, Name, itemId, error);
        }
    }

    private ValueTask TrackAsync(object itemId, ItemStatus status, string? worker, string? stage = null, IReadOnlyDictionary<string, object?>? metadata = null)
    {
        StatusTracker? tracker = Tracker;
        if (tracker is null)
        {
            return ValueTask.CompletedTask;
        }

        return tracker.RecordAsync(new StatusRecord(itemId, status, stage ?? Name, worker, _engine.TimeProvider.GetUtcNow(), metadata ?? EmptyMetadata.Instance));
    }

    private ValueTask TrackTaskAsync(WorkerSlot slot, TaskEventType type, int attempt, Exception? error)
    {
        StatusTracker? tracker = Tracker;
        if (tracker is null || !tracker.HasTaskSubscribers || slot.CurrentItemId is not { } itemId || slot.CurrentTaskName is not { } taskName)
        {
            return ValueTask.CompletedTask;
        }

        long now = _engine.TimeProvider.GetTimestamp();
        return tracker.RecordAsync(new TaskEvent
        {
            ItemId = itemId,
            Stage = Name,
            TaskName = taskName,
            Worker = slot.Name,
            EventType = type,
            Attempt = attempt,
            Timestamp = _engine.ToTime(now),
            Error = error,
            Duration = type == TaskEventType.Start ? null : _engine.TimeProvider.GetElapsedTime(slot.TaskStarted, now),
        });
    }

    private void OnWorkersCompleted(Task workers)
    {
        _stageRate?.Dispose();
        if (_taskRates is not null)
        {
            foreach (RateGate gate in _taskRates.Values)
            {
                gate.Dispose();
            }
        }

        if (workers.IsFaulted)
        {
            _completion.TrySetException(workers.Exception!.InnerExceptions);
        }
        else if (workers.IsCanceled)
        {
            _completion.TrySetCanceled();
        }
        else
        {
            _completion.TrySetResult();
        }
    }
}
