namespace AntFlow.Dataflow;

/// <summary>One input of a <c>MapIterAsync</c> call, queued on its own so that the stream can hand out
/// work as its consumer makes room for it.</summary>
/// <typeparam name="T">The type of the input.</typeparam>
/// <typeparam name="TResult">The type of the result.</typeparam>
internal sealed class MapItemJob<T, TResult> : ExecutorJob
{
    private readonly ItemInvoker<T, TResult> _invoker;
    private readonly T _item;
    private readonly long _index;
    private readonly CancellationToken _token;
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MapItemJob(ItemInvoker<T, TResult> invoker, T item, long index, CancellationToken token)
    {
        _invoker = invoker;
        _item = item;
        _index = index;
        _token = token;
    }

    public Task<TResult> Completion => _completion.Task;

    protected override async Task ExecuteAsync()
    {
        try
        {
            _token.ThrowIfCancellationRequested();
            _completion.TrySetResult(await _invoker.InvokeAsync(_item, _index, _token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (_token.IsCancellationRequested)
        {
            _completion.TrySetCanceled(_token);
        }
        catch (Exception ex)
        {
            _completion.TrySetException(ex);
        }
    }

    protected override void OnCancelled(CancellationToken reason) => _completion.TrySetCanceled(reason);
}
