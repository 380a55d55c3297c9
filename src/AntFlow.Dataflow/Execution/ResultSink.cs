namespace AntFlow.Dataflow.Execution;

/// <summary>Where finished items go: a collection (RunAsync), a channel (StreamAsync) or a block (AsBlock).</summary>
internal abstract class ResultSink<T>
{
    public abstract ValueTask EmitAsync(PipelineResult<T> result);

    /// <summary>Called once when the pipeline has finished (with the fault, if it faulted).</summary>
    public virtual void Complete(Exception? error)
    {
    }
}
