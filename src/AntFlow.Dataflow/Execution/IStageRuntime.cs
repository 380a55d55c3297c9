using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow.Execution;

/// <summary>A running stage, seen without its types: what the engine and the monitoring queries need.</summary>
internal interface IStageRuntime
{
    string Name { get; }

    int Index { get; }

    Type InputType { get; }

    IReadOnlyList<WorkerSlot> Workers { get; }

    /// <summary>Items waiting in the stage queue, plus items waiting for a stage retry.</summary>
    int QueueSize { get; }

    long CompletedItems { get; }

    long FailedItems { get; }

    /// <summary>Completes when every item that entered the stage has left it.</summary>
    Task Completion { get; }

    /// <summary>Links this stage's output to <paramref name="next"/>, which must take this stage's output type.</summary>
    void ConnectTo(IStageRuntime next);

    /// <summary>Tells the stage that nothing more will come from upstream (it completes once it is empty).</summary>
    void CompleteUpstream(Exception? upstreamError = null);
}

/// <summary>The input side of a stage taking <typeparamref name="T"/>.</summary>
internal interface IStageInput<T>
{
    string Name { get; }

    ITargetBlock<Envelope<T>> Queue { get; }

    /// <summary>Counts an item in before it is sent to <see cref="Queue"/>, so the stage cannot complete under it.</summary>
    void Enter();

    /// <summary>Counts an item out that was entered but could not be sent.</summary>
    void Leave();
}

/// <summary>The output side of the last stage, which hands results to the sink.</summary>
internal interface IStageOutput<T>
{
    void ConnectTo(ResultSink<T> sink);
}
