using System.Collections.Concurrent;

namespace AntFlow.Dataflow.Execution;

/// <summary>Keeps every result (lock-free); sorted into input order when read.</summary>
internal sealed class CollectingResultSink<T>(bool keep) : ResultSink<T>
{
    private readonly ConcurrentQueue<PipelineResult<T>> _results = new();

    public override bool WantsResults => keep;

    public override ValueTask EmitAsync(PipelineResult<T> result)
    {
        if (keep)
        {
            _results.Enqueue(result);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The results so far, in input order.</summary>
    public IReadOnlyList<PipelineResult<T>> GetResults()
    {
        PipelineResult<T>[] results = _results.ToArray();
        Array.Sort(results, static (a, b) => a.SequenceId.CompareTo(b.SequenceId));
        return results;
    }
}
