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
    /// <remarks>
    /// A call that completes synchronously allocates nothing here, with or without retries: the function's own
    /// task is used as is, and the pooled Polly context goes back to its pool before this returns.
    /// </remarks>
    public ValueTask<TResult> InvokeAsync(T item, long index, CancellationToken cancellationToken)
    {
        if (_retry is null)
        {
            return new ValueTask<TResult>(_function(item, cancellationToken) ?? throw ExecutorErrors.NullTask());
        }

        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        bool handedOff = false;
        try
        {
            context.Properties.Set(ExecutorConstants.ItemIndexKey, index);
            ValueTask<TResult> pending = _retry.ExecuteAsync(
                static (ctx, state) => new ValueTask<TResult>(
                    state.Function(state.Item, ctx.CancellationToken) ?? throw ExecutorErrors.NullTask()),
                context,
                (Function: _function, Item: item));
            if (!pending.IsCompleted)
            {
                handedOff = true;
                return AwaitThenReturnContextAsync(pending, context);
            }

            // Read the outcome while the context is still ours.
            return new ValueTask<TResult>(pending.GetAwaiter().GetResult());
        }
        finally
        {
            if (!handedOff)
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }
    }

    private static async ValueTask<TResult> AwaitThenReturnContextAsync(ValueTask<TResult> pending, ResilienceContext context)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
