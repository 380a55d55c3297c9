using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow.Execution;

/// <summary>Offers results to the output block of <c>AsBlock()</c>; waits for room when the block is full.</summary>
internal sealed class BlockResultSink<T>(BufferBlock<PipelineResult<T>> output) : ResultSink<T>
{
    private Exception? _fault;
    private CancellationToken _stopToken;

    /// <summary>
    /// Gives up waiting for room once <paramref name="stopToken"/> is cancelled (the run is shut down or disposed):
    /// with nobody reading the output, the result could never be delivered. Call before any item runs.
    /// </summary>
    public void StopWaitingOn(CancellationToken stopToken) => _stopToken = stopToken;

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
            await output.SendAsync(result, _stopToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopToken.IsCancellationRequested)
        {
            // Stopped while the output was full and unread: the result is dropped, as the stream's are.
        }
    }
}
