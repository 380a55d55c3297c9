namespace AntFlow.Dataflow.Building;

/// <summary>What the builders of one stage share while the stage is being configured.</summary>
internal sealed class StageBuildState(string name)
{
    public StageSettings Settings { get; } = new(name);

    public int TaskCount { get; set; }

    /// <summary>A <see cref="StageSkip{TIn, TOut}"/> for the output type current when SkipIf was called.</summary>
    public object? Skip { get; set; }

    public int TaskCountAtSkip { get; set; }

    /// <summary>The success callback, typed by the output type current when OnSuccess was called.</summary>
    public object? OnSuccess { get; set; }

    public Type? OnSuccessType { get; set; }

    public Func<object, Exception, Task>? OnFailure { get; set; }

    public HashSet<string> TaskNames { get; } = new(StringComparer.Ordinal);

    /// <summary>Set once the stage is validated into a definition: its builder then refuses further changes.</summary>
    public bool Frozen { get; set; }
}
