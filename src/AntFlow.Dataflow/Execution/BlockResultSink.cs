using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow.Execution;

/// <summary>Offers results to the output block of <c>AsBlock()</c>; waits for room when the block is full.</summary>
internal sealed class BlockResultSink<T>(BufferBlock<PipelineResult<T>> output) : ResultSink<T>
{
    private readonly CancellationTokenSource _abandoned = new();
    private Exception? _fault;

    /// <summary>
    /// The owner will not read the output any more (the pipeline is being disposed): results that do not fit are
    /// dropped instead of waited for. A stop alone does not abandon: a slow reader still gets every result.
    /// </summary>
    public void Abandon() => _abandoned.Cancel();

    public override ValueTask EmitAsync(PipelineResult<T> result) =>
        output.Post(result) ? ValueTask.CompletedTask : SendSlowAsync(result);

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

    private async ValueTask SendSlowAsync(PipelineResult<T> result)
    {
        try
        {
            await output.SendAsync(result, _abandoned.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abandoned.IsCancellationRequested)
        {
            // Disposed while the output was full: nobody will read this result.
        }
    }
}
