namespace AntFlow.Dataflow.Tests.Blocks;

/// <summary>
/// A target that answers every offer with a chosen status (Postponed by default) and remembers the
/// offers, so a test can reserve, consume or release exactly like a real postponing target would.
/// </summary>
internal sealed class ProbeTarget<T> : ITargetBlock<T>
{
    private readonly object _gate = new();
    private readonly List<(DataflowMessageHeader Header, T Value)> _offers = [];
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DataflowMessageStatus Answer { get; set; } = DataflowMessageStatus.Postponed;

    public IReadOnlyList<(DataflowMessageHeader Header, T Value)> Offers
    {
        get
        {
            lock (_gate)
            {
                return _offers.ToArray();
            }
        }
    }

    public (DataflowMessageHeader Header, T Value) LastOffer
    {
        get
        {
            lock (_gate)
            {
                return _offers[^1];
            }
        }
    }

    public Task Completion => _completion.Task;

    public DataflowMessageStatus OfferMessage(DataflowMessageHeader messageHeader, T messageValue, ISourceBlock<T>? source, bool consumeToAccept)
    {
        lock (_gate)
        {
            _offers.Add((messageHeader, messageValue));
        }

        return Answer;
    }

    public void Complete() => _completion.TrySetResult();

    public void Fault(Exception exception) => _completion.TrySetException(exception);
}
