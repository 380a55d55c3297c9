using AntFlow.Dataflow.Execution;

namespace AntFlow.Dataflow.Building;

/// <summary>A validated, immutable stage of a pipeline, independent of its types.</summary>
internal abstract class StageDefinition(StageSettings settings)
{
    public StageSettings Settings { get; } = settings;

    public string Name => Settings.Name;

    public abstract Type InputType { get; }

    public abstract Type OutputType { get; }

    public abstract IStageRuntime CreateRuntime(PipelineEngine engine, int index, bool isLast);
}

/// <summary>A stage taking <typeparamref name="TIn"/> and producing <typeparamref name="TOut"/>.</summary>
internal sealed class StageDefinition<TIn, TOut> : StageDefinition
{
    private StageDefinition(StageSettings settings, TaskChain<TIn, TOut>? chain, StageSkip<TIn, TOut>? skip, StageCallbacks<TOut> callbacks)
        : base(settings)
    {
        Chain = chain!;
        Skip = skip;
        Callbacks = callbacks;
    }

    public override Type InputType => typeof(TIn);

    public override Type OutputType => typeof(TOut);

    public TaskChain<TIn, TOut> Chain { get; }

    public StageSkip<TIn, TOut>? Skip { get; }

    public StageCallbacks<TOut> Callbacks { get; }

    /// <summary>Checks a configured stage and freezes it; problems are added to the settings' error list.</summary>
    public static StageDefinition<TIn, TOut> From(StageBuilder<TIn, TOut> builder)
    {
        StageBuildState state = builder.State;
        state.Frozen = true;
        StageSettings settings = state.Settings;
        if (settings.Workers < 1)
        {
            settings.AddError($"workers must be at least 1 (was {settings.Workers}).");
        }

        if (settings.QueueCapacity is < 1)
        {
            settings.AddError($"queue capacity must be at least 1 (was {settings.QueueCapacity}).");
        }

        if (settings.Attempts < 1)
        {
            settings.AddError($"retry attempts must be at least 1 (was {settings.Attempts}).");
        }
        else if (settings.Attempts > Envelope<TIn>.MaxAttempts)
        {
            settings.AddError($"retry attempts must be at most {Envelope<TIn>.MaxAttempts} (was {settings.Attempts}).");
        }

        if (state.TaskCount == 0)
        {
            settings.AddError("has no tasks; add at least one with Task(...).");
        }

        StageSkip<TIn, TOut>? skip = null;
        if (state.Skip is not null)
        {
            skip = state.Skip as StageSkip<TIn, TOut>;
            if (skip is null || state.TaskCountAtSkip != state.TaskCount)
            {
                settings.AddError("SkipIf must come after the last Task(...): a Task added after it changes the stage output.");
            }
        }

        Func<object, TOut, Task>? onSuccess = null;
        if (state.OnSuccess is not null)
        {
            onSuccess = state.OnSuccess as Func<object, TOut, Task>;
            if (onSuccess is null)
            {
                settings.AddError(
                    $"OnSuccess was declared for output {state.OnSuccessType?.Name} but the stage output is {typeof(TOut).Name}; call it after the last Task(...).");
            }
        }

        var callbacks = new StageCallbacks<TOut> { OnSuccess = onSuccess, OnFailure = state.OnFailure };
        return new StageDefinition<TIn, TOut>(settings, builder.Chain, skip, callbacks);
    }

    public override IStageRuntime CreateRuntime(PipelineEngine engine, int index, bool isLast) =>
        new StageRuntime<TIn, TOut>(engine, this, index, isLast);
}
