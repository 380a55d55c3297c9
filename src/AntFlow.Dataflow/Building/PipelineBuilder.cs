using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow;

/// <summary>
/// Builds a <see cref="Pipeline{TIn, TOut}"/> stage by stage. Each <c>Stage</c> call returns a builder typed by the new
/// output. A builder is single-use: <see cref="Build"/> may be called once.
/// </summary>
/// <typeparam name="TIn">The pipeline's input type.</typeparam>
/// <typeparam name="TCurrent">The output type of the last stage added so far.</typeparam>
public sealed class PipelineBuilder<TIn, TCurrent>
{
    private readonly Building.PipelineBuildState<TIn> _state;

    internal PipelineBuilder(Building.PipelineBuildState<TIn> state) => _state = state;

    /// <summary>Adds a stage that runs <paramref name="task"/> on each item with <paramref name="workers"/> workers.</summary>
    /// <typeparam name="TNext">The stage's output type.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline; workers are named <c>"{name}-W{i}"</c>.</param>
    /// <param name="task">The work to do per item.</param>
    /// <param name="workers">How many items the stage runs at once. At least 1.</param>
    /// <returns>A builder whose output is the stage's output.</returns>
    public PipelineBuilder<TIn, TNext> Stage<TNext>(string name, Func<TCurrent, CancellationToken, Task<TNext>> task, int workers = 1) =>
        Stage<TNext>(name, stage => stage.Task(name, task).Workers(workers));

    /// <inheritdoc cref="Stage{TNext}(string, Func{TCurrent, CancellationToken, Task{TNext}}, int)"/>
    public PipelineBuilder<TIn, TNext> Stage<TNext>(string name, Func<TCurrent, Task<TNext>> task, int workers = 1) =>
        Stage<TNext>(name, stage => stage.Task(name, task).Workers(workers));

    /// <inheritdoc cref="Stage{TNext}(string, Func{TCurrent, CancellationToken, Task{TNext}}, int)"/>
    public PipelineBuilder<TIn, TNext> Stage<TNext>(string name, Func<TCurrent, TNext> task, int workers = 1) =>
        Stage<TNext>(name, stage => stage.Task(name, task).Workers(workers));

    /// <summary>Adds a stage configured with a <see cref="StageBuilder{TIn, TOut}"/>: several tasks, retries, skipping, callbacks.</summary>
    /// <typeparam name="TNext">The stage's output type.</typeparam>
    /// <param name="name">The stage's name, unique in the pipeline.</param>
    /// <param name="configure">Configures the stage and returns the builder of its last task.</param>
    /// <returns>A builder whose output is the stage's output.</returns>
    public PipelineBuilder<TIn, TNext> Stage<TNext>(string name, Func<StageBuilder<TCurrent, TCurrent>, StageBuilder<TCurrent, TNext>> configure)
    {
        _state.EnsureNotBuilt();
        string stageName = name ?? string.Empty;
        var buildState = new Building.StageBuildState(stageName);
        if (string.IsNullOrWhiteSpace(name))
        {
            _state.Errors.Add($"Stage #{_state.Stages.Count + 1} has no name.");
        }

        if (configure is null)
        {
            buildState.Settings.AddError("the configure function is null.");
            _state.Stages.Add(Building.StageDefinition<TCurrent, TNext>.From(new StageBuilder<TCurrent, TNext>(buildState, null)));
            return new PipelineBuilder<TIn, TNext>(_state);
        }

        StageBuilder<TCurrent, TNext> configured = configure(new StageBuilder<TCurrent, TCurrent>(buildState, null));
        if (configured is null || !ReferenceEquals(configured.State, buildState))
        {
            buildState.Settings.AddError("the configure function must return the stage builder it was given (after its Task calls).");
            configured = new StageBuilder<TCurrent, TNext>(buildState, null);
        }

        _state.Stages.Add(Building.StageDefinition<TCurrent, TNext>.From(configured));
        return new PipelineBuilder<TIn, TNext>(_state);
    }

    /// <summary>Records every item's status changes and task events in <paramref name="tracker"/>.</summary>
    /// <param name="tracker">The tracker.</param>
    /// <returns>This builder.</returns>
    public PipelineBuilder<TIn, TCurrent> WithTracker(StatusTracker tracker)
    {
        _state.Tracker = tracker ?? throw new ArgumentNullException(nameof(tracker));
        return this;
    }

    /// <summary>Logs through loggers from <paramref name="loggerFactory"/>. Without it nothing is logged.</summary>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <returns>This builder.</returns>
    public PipelineBuilder<TIn, TCurrent> WithLogging(ILoggerFactory loggerFactory)
    {
        _state.LoggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        return this;
    }

    /// <summary>Takes all time (timestamps, durations, backoff delays, timeouts) from <paramref name="timeProvider"/>.</summary>
    /// <param name="timeProvider">The time provider; the default is <see cref="TimeProvider.System"/>.</param>
    /// <returns>This builder.</returns>
    public PipelineBuilder<TIn, TCurrent> WithTimeProvider(TimeProvider timeProvider)
    {
        _state.TimeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        return this;
    }

    /// <summary>Gives each input item the id <paramref name="idSelector"/> returns, instead of its sequence number.</summary>
    /// <param name="idSelector">Returns a non-null id for an input item.</param>
    /// <returns>This builder.</returns>
    public PipelineBuilder<TIn, TCurrent> WithIdSelector(Func<TIn, object> idSelector)
    {
        _state.IdSelector = idSelector ?? throw new ArgumentNullException(nameof(idSelector));
        return this;
    }

    /// <summary>Skips items the store says are finished, and marks items finished when they leave the last stage.</summary>
    /// <param name="store">The checkpoint store.</param>
    /// <returns>This builder.</returns>
    public PipelineBuilder<TIn, TCurrent> WithCheckpoint(ICheckpointStore store)
    {
        _state.CheckpointStore = store ?? throw new ArgumentNullException(nameof(store));
        return this;
    }

    /// <summary>Whether <c>RunAsync</c> and <c>Results</c> keep the results; with <see langword="false"/> nothing is kept (streaming and <c>AsBlock</c> are unaffected).</summary>
    /// <param name="collect">The default is <see langword="true"/>.</param>
    /// <returns>This builder.</returns>
    public PipelineBuilder<TIn, TCurrent> CollectResults(bool collect = true)
    {
        _state.CollectResults = collect;
        return this;
    }

    /// <summary>Validates the configuration and creates the pipeline.</summary>
    /// <returns>The pipeline.</returns>
    /// <exception cref="PipelineException">The pipeline has no stages.</exception>
    /// <exception cref="StageValidationException">A stage is invalid; the message names every problem found.</exception>
    /// <exception cref="InvalidOperationException">The builder was already built.</exception>
    public Pipeline<TIn, TCurrent> Build() => new(_state.Build());
}
