using Polly;

namespace AntFlow.Dataflow;

/// <summary>
/// Calls a map function for one input, through the map's Polly retry pipeline when it has retries.
/// </summary>
/// <typeparam name="T">The type of the inputs.</typeparam>
/// <typeparam name="TResult">The type of the results.</typeparam>
internal sealed class ItemInvoker<T, TResult>
{
    private readonly Func<T, CancellationToken, Task<TResult>> _function;
    private readonly ResiliencePipeline? _retry;

    public ItemInvoker(Func<T, CancellationToken, Task<TResult>> function, ResiliencePipeline? retry)
    {
        _function = function;
        _retry = retry;
    }

    /// <summary>Runs the function for <paramref name="item"/>. May throw synchronously.</summary>
    public Task<TResult> InvokeAsync(T item, long index, CancellationToken cancellationToken)
    {
        // Without retries the function's own task is used as is: no state machine, no allocation.
        return _retry is null
            ? _function(item, cancellationToken) ?? throw ExecutorErrors.NullTask()
            : InvokeWithRetryAsync(_retry, item, index, cancellationToken);
    }

    private async Task<TResult> InvokeWithRetryAsync(ResiliencePipeline retry, T item, long index, CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(ExecutorConstants.ItemIndexKey, index);
            return await retry.ExecuteAsync(
                static (ctx, state) => new ValueTask<TResult>(
                    state.Function(state.Item, ctx.CancellationToken) ?? throw ExecutorErrors.NullTask()),
                context,
                (Function: _function, Item: item)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
