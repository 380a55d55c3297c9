using AntFlow.Dataflow.Execution;

namespace AntFlow.Dataflow.Building;

/// <summary>
/// A stage's tasks, composed with their types: runs them in order on one worker. Immutable once built; how each task
/// runs (retry, limits, events) is decided by the stage runtime passed in.
/// </summary>
internal abstract class TaskChain<TIn, TOut>
{
    public abstract IReadOnlyList<string> TaskNames { get; }

    public abstract ValueTask<TOut> RunAsync(TIn input, WorkerSlot slot, ITaskRunner runner);
}

/// <summary>The first task of a chain.</summary>
internal sealed class SingleTaskChain<TIn, TOut>(TaskDefinition<TIn, TOut> task) : TaskChain<TIn, TOut>
{
    public override IReadOnlyList<string> TaskNames { get; } = [task.Name];

    public override ValueTask<TOut> RunAsync(TIn input, WorkerSlot slot, ITaskRunner runner) =>
        runner.RunTaskAsync(task, input, slot);
}

/// <summary>A chain followed by one more task.</summary>
internal sealed class AppendedTaskChain<TIn, TMid, TOut>(TaskChain<TIn, TMid> head, TaskDefinition<TMid, TOut> task)
    : TaskChain<TIn, TOut>
{
    public override IReadOnlyList<string> TaskNames { get; } = [.. head.TaskNames, task.Name];

    public override ValueTask<TOut> RunAsync(TIn input, WorkerSlot slot, ITaskRunner runner)
    {
        ValueTask<TMid> first = head.RunAsync(input, slot, runner);
        return first.IsCompletedSuccessfully
            ? runner.RunTaskAsync(task, first.Result, slot)
            : ContinueAsync(first, slot, runner);
    }

    private async ValueTask<TOut> ContinueAsync(ValueTask<TMid> first, WorkerSlot slot, ITaskRunner runner)
    {
        TMid mid = await first.ConfigureAwait(false);
        return await runner.RunTaskAsync(task, mid, slot).ConfigureAwait(false);
    }
}
