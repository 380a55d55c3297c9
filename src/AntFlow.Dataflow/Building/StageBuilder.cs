using Polly;

namespace AntFlow.Dataflow;

/// <summary>
/// Configures one stage: its tasks (run in order by the same worker), workers, queue, retries, skipping and
/// callbacks. Obtained from <c>PipelineBuilder.Stage(name, stage =&gt; ...)</c>; each <c>Task</c> call returns a builder
/// typed by the new output.
/// </summary>
/// <remarks>
/// The stage is checked and frozen when <c>Stage(...)</c> returns: a builder kept beyond that throws
/// <see cref="InvalidOperationException"/> on any further change.
/// </remarks>
/// <typeparam name="TIn">The stage's input type.</typeparam>
/// <typeparam name="TOut">The output type of the last task added so far.</typeparam>
public sealed class StageBuilder<TIn, TOut>
{
    private readonly Building.StageBuildState _state;

    internal StageBuilder(Building.StageBuildState state, Building.TaskChain<TIn, TOut>? chain)
    {
        _state = state;
        Chain = chain;
    }

    internal Building.StageBuildState State => _state;

    /// <summary>The stage's state, while it may still change: once the stage is part of a pipeline it is frozen.</summary>
    private Building.StageBuildState Open => _state.Frozen
        ? throw new InvalidOperationException(
            $"Stage '{_state.Settings.Name}' is already part of the pipeline; configure it inside the function given to Stage(...).")
        : _state;

    internal Building.TaskChain<TIn, TOut>? Chain { get; }

    /// <summary>Adds a task that runs after the previous ones, on the same worker.</summary>
    /// <typeparam name="TNext">The task's output type.</typeparam>
    /// <param name="name">The task's name (shown as the worker's current task and in task events).</param>
    /// <param name="task">The work to do.</param>
    /// <param name="concurrencyLimit">At most this many runs of this task at once across the stage's workers; <see langword="null"/> for no limit.</param>
    /// <returns>A builder whose output is the task's output.</returns>
    public StageBuilder<TIn, TNext> Task<TNext>(string name, Func<TOut, CancellationToken, Task<TNext>> task, int? concurrencyLimit = null) =>
        Append(name, task is null ? null : new Building.TaskDefinition<TOut, TNext>(name, task, concurrencyLimit), concurrencyLimit);

    /// <inheritdoc cref="Task{TNext}(string, Func{TOut, CancellationToken, Task{TNext}}, int?)"/>
    public StageBuilder<TIn, TNext> Task<TNext>(string name, Func<TOut, Task<TNext>> task, int? concurrencyLimit = null) =>
        Append(name, task is null ? null : new Building.TaskDefinition<TOut, TNext>(name, task, concurrencyLimit), concurrencyLimit);

    /// <inheritdoc cref="Task{TNext}(string, Func{TOut, CancellationToken, Task{TNext}}, int?)"/>
    public StageBuilder<TIn, TNext> Task<TNext>(string name, Func<TOut, TNext> task, int? concurrencyLimit = null) =>
        Append(name, task is null ? null : new Building.TaskDefinition<TOut, TNext>(name, task, concurrencyLimit), concurrencyLimit);

    /// <summary>Sets the number of workers (parallel items) of the stage.</summary>
    /// <param name="count">At least 1.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> Workers(int count)
    {
        Open.Settings.Workers = count;
        return this;
    }

    /// <summary>Bounds the stage's input queue; producers wait when it is full.</summary>
    /// <param name="capacity">At least 1. The default is ten per worker.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> QueueCapacity(int capacity)
    {
        Open.Settings.QueueCapacity = capacity;
        return this;
    }

    /// <summary>Retries failing items with exponential backoff and jitter.</summary>
    /// <param name="mode"><see cref="RetryMode.PerTask"/> retries the failing task; <see cref="RetryMode.PerStage"/> re-queues the whole item.</param>
    /// <param name="attempts">Calls in all, counting the first (3 means up to 3 calls). From 1 to 10,000.</param>
    /// <param name="delay">The first backoff delay; doubles on each retry, with jitter. The default is 100 ms.</param>
    /// <param name="retryOn">Which exceptions are retried; the default is every exception except cancellation of the pipeline's own token.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> Retry(RetryMode mode, int attempts, TimeSpan? delay = null, Func<Exception, bool>? retryOn = null)
    {
        Building.StageSettings settings = Open.Settings;
        if (!Enum.IsDefined(mode))
        {
            settings.AddError($"retry mode {(int)mode} is not a RetryMode.");
        }

        if (delay is { } d && d < TimeSpan.Zero)
        {
            settings.AddError($"retry delay must not be negative (was {d}).");
        }

        settings.RetryMode = mode;
        settings.Attempts = attempts;
        settings.RetryDelay = delay ?? Building.StageDefaults.RetryDelay;
        settings.RetryOn = retryOn;
        return this;
    }

    /// <summary>
    /// Runs every task of the stage through a Polly resilience pipeline (circuit breaker, hedging, rate limiting, ...).
    /// Retries that happen inside it are invisible to the stage: they do not raise <see cref="PipelineResult{T}.Attempts"/>
    /// or produce Retrying events; use <see cref="Retry"/> for retries you want tracked.
    /// </summary>
    /// <param name="pipeline">The pipeline to run each task in.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> Resilience(ResiliencePipeline pipeline)
    {
        if (pipeline is null)
        {
            Open.Settings.AddError("the resilience pipeline is null.");
        }

        Open.Settings.Resilience = pipeline;
        return this;
    }

    /// <summary>Cancels a task run that takes longer than <paramref name="timeout"/>; it fails with a <see cref="TimeoutException"/> (and may be retried).</summary>
    /// <param name="timeout">Positive.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> Timeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            Open.Settings.AddError($"timeout must be positive (was {timeout}).");
        }

        Open.Settings.TaskTimeout = timeout;
        return this;
    }

    /// <summary>
    /// Limits the rate of work: at most <paramref name="permits"/> per <paramref name="per"/> window (60 per minute
    /// allows a burst of 60, then waits for the next minute). Items wait for a permit on their worker.
    /// </summary>
    /// <param name="permits">Permits per window. At least 1.</param>
    /// <param name="per">The window length. Positive.</param>
    /// <param name="taskName">Limit only this task's runs; <see langword="null"/> (the default) limits the stage: each item attempt takes a permit.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> RateLimit(int permits, TimeSpan per, string? taskName = null)
    {
        Building.StageSettings settings = Open.Settings;
        if (permits < 1)
        {
            settings.AddError($"rate limit permits must be at least 1 (was {permits}).");
        }

        if (per <= TimeSpan.Zero)
        {
            settings.AddError($"rate limit window must be positive (was {per}).");
        }

        if (taskName is null)
        {
            settings.RateLimit = (permits, per);
        }
        else if (!Open.TaskNames.Contains(taskName))
        {
            settings.AddError($"rate limit names task '{taskName}', which the stage does not have (yet): call RateLimit after that Task(...).");
        }
        else
        {
            settings.TaskRateLimits[taskName] = (permits, per);
        }

        return this;
    }

    /// <summary>
    /// Skips items for which <paramref name="predicate"/> is true: they pass through unchanged with status Skipped.
    /// Tested on the stage input before the first task. Needs <typeparamref name="TOut"/> to be assignable from
    /// <typeparamref name="TIn"/>; call it after the last <c>Task</c>.
    /// </summary>
    /// <param name="predicate">True to skip the item. If it throws, the item fails with that exception.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> SkipIf(Func<TIn, bool> predicate) =>
        SetSkip(predicate is null ? null : input => new ValueTask<bool>(predicate(input)), whenSkipped: null);

    /// <inheritdoc cref="SkipIf(Func{TIn, bool})"/>
    public StageBuilder<TIn, TOut> SkipIf(Func<TIn, Task<bool>> predicate) =>
        SetSkip(predicate is null ? null : input => new ValueTask<bool>(predicate(input)), whenSkipped: null);

    /// <summary>Skips items for which <paramref name="predicate"/> is true, passing on <paramref name="whenSkipped"/>'s value with status Skipped.</summary>
    /// <param name="predicate">True to skip the item. If it throws, the item fails with that exception.</param>
    /// <param name="whenSkipped">The stage output for a skipped item.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> SkipIf(Func<TIn, bool> predicate, Func<TIn, TOut> whenSkipped) =>
        SetSkip(predicate is null ? null : input => new ValueTask<bool>(predicate(input)), whenSkipped ?? MissingWhenSkipped());

    /// <inheritdoc cref="SkipIf(Func{TIn, bool}, Func{TIn, TOut})"/>
    public StageBuilder<TIn, TOut> SkipIf(Func<TIn, Task<bool>> predicate, Func<TIn, TOut> whenSkipped) =>
        SetSkip(predicate is null ? null : input => new ValueTask<bool>(predicate(input)), whenSkipped ?? MissingWhenSkipped());

    /// <summary>Called once per item that finishes this stage successfully, with the item id and the stage output. Exceptions are logged and ignored.</summary>
    /// <param name="callback">The callback.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> OnSuccess(Action<object, TOut> callback) =>
        SetOnSuccess(callback is null ? null : (id, value) =>
        {
            callback(id, value);
            return System.Threading.Tasks.Task.CompletedTask;
        });

    /// <inheritdoc cref="OnSuccess(Action{object, TOut})"/>
    public StageBuilder<TIn, TOut> OnSuccess(Func<object, TOut, Task> callback) => SetOnSuccess(callback);

    /// <summary>Called once per item that fails for good in this stage, with the item id and the original exception. Exceptions are logged and ignored.</summary>
    /// <param name="callback">The callback.</param>
    /// <returns>This builder.</returns>
    public StageBuilder<TIn, TOut> OnFailure(Action<object, Exception> callback) =>
        SetOnFailure(callback is null ? null : (id, error) =>
        {
            callback(id, error);
            return System.Threading.Tasks.Task.CompletedTask;
        });

    /// <inheritdoc cref="OnFailure(Action{object, Exception})"/>
    public StageBuilder<TIn, TOut> OnFailure(Func<object, Exception, Task> callback) => SetOnFailure(callback);

    private StageBuilder<TIn, TNext> Append<TNext>(string name, Building.TaskDefinition<TOut, TNext>? task, int? concurrencyLimit)
    {
        Building.StageSettings settings = Open.Settings;
        Open.TaskCount++;
        if (string.IsNullOrWhiteSpace(name))
        {
            settings.AddError($"task #{Open.TaskCount} has no name.");
        }
        else if (!Open.TaskNames.Add(name))
        {
            settings.AddError($"task name '{name}' is used twice.");
        }

        if (task is null)
        {
            settings.AddError($"task '{name}' has a null delegate.");
        }

        if (concurrencyLimit is < 1)
        {
            settings.AddError($"task '{name}' concurrencyLimit must be at least 1 (was {concurrencyLimit}).");
        }

        if (task is null)
        {
            return new StageBuilder<TIn, TNext>(Open, null);
        }

        Building.TaskChain<TIn, TNext>? chain = Chain is null
            ? (typeof(TIn) == typeof(TOut)
                ? new Building.SingleTaskChain<TIn, TNext>((Building.TaskDefinition<TIn, TNext>)(object)task)
                : null)
            : new Building.AppendedTaskChain<TIn, TOut, TNext>(Chain, task);
        return new StageBuilder<TIn, TNext>(Open, chain);
    }

    private StageBuilder<TIn, TOut> SetSkip(Func<TIn, ValueTask<bool>>? predicate, Func<TIn, TOut>? whenSkipped)
    {
        if (predicate is null)
        {
            Open.Settings.AddError("the SkipIf predicate is null.");
            return this;
        }

        if (whenSkipped is null)
        {
            if (!typeof(TOut).IsAssignableFrom(typeof(TIn)))
            {
                Open.Settings.AddError(
                    $"SkipIf passes the input through unchanged, but the stage output {typeof(TOut).Name} is not assignable from its input {typeof(TIn).Name}; use SkipIf(predicate, whenSkipped).");
                return this;
            }

            whenSkipped = static input => (TOut)(object?)input!;
        }

        Open.Skip = new Building.StageSkip<TIn, TOut>(predicate, whenSkipped);
        Open.TaskCountAtSkip = Open.TaskCount;
        return this;
    }

    private StageBuilder<TIn, TOut> SetOnSuccess(Func<object, TOut, Task>? callback)
    {
        if (callback is null)
        {
            Open.Settings.AddError("the OnSuccess callback is null.");
            return this;
        }

        Open.OnSuccess = callback;
        Open.OnSuccessType = typeof(TOut);
        return this;
    }

    private StageBuilder<TIn, TOut> SetOnFailure(Func<object, Exception, Task>? callback)
    {
        if (callback is null)
        {
            Open.Settings.AddError("the OnFailure callback is null.");
            return this;
        }

        Open.OnFailure = callback;
        return this;
    }

    private Func<TIn, TOut> MissingWhenSkipped()
    {
        Open.Settings.AddError("the SkipIf whenSkipped function is null.");
        return static _ => default!;
    }
}
