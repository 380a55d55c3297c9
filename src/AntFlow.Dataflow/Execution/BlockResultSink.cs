using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow.Execution;

/// <summary>Offers results to the output block of <c>AsBlock()</c>; waits for room when the block is full.</summary>
internal sealed class BlockResultSink<T>(BufferBlock<PipelineResult<T>> output) : ResultSink<T>
{
    public override ValueTask EmitAsync(PipelineResult<T> result) =>
        output.Post(result) ? ValueTask.CompletedTask : new ValueTask(output.SendAsync(result));

    private Exception? _fault;

    /// <summary>Faults the output (instead of completing it) when the pipeline finishes, because the input block faulted.</summary>
    public void FaultOnCompletion(Exception error) => Volatile.Write(ref _fault, error);

    public override void Complete(Exception? error)
    {
        error ??= Volatile.Read(ref _fault);
        if (error is null)
        {
            output.Complete();
        }
        else
        {
            ((IDataflowBlock)output).Fault(error);
        }
    }
}
