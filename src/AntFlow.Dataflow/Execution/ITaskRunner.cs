using AntFlow.Dataflow.Building;

namespace AntFlow.Dataflow.Execution;

/// <summary>How a stage runs one task of an item: retries, concurrency limits, timeouts and task events.</summary>
internal interface ITaskRunner
{
    ValueTask<TOut> RunTaskAsync<TIn, TOut>(TaskDefinition<TIn, TOut> task, TIn input, WorkerSlot slot);
}
