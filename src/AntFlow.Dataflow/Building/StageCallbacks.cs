namespace AntFlow.Dataflow.Building;

/// <summary>A stage's success and failure callbacks, typed by the stage output they were declared for.</summary>
internal sealed class StageCallbacks<TOut>
{
    public Func<object, TOut, Task>? OnSuccess { get; init; }

    public Func<object, Exception, Task>? OnFailure { get; init; }
}
