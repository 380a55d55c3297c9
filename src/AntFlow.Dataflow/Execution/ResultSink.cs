namespace AntFlow.Dataflow.Execution;

/// <summary>Where finished items go: a collection (RunAsync), a channel (StreamAsync) or a block (AsBlock).</summary>
internal abstract class ResultSink<T>
{
    /// <summary>False when results are thrown away (CollectResults(false)): successes are then not even created.</summary>
    public virtual bool WantsResults => true;

    public abstract ValueTask EmitAsync(PipelineResult<T> result);

    /// <summary>Called once when the pipeline has finished (with the fault, if it faulted).</summary>
    public virtual void Complete(Exception? error)
    {
    }
}
