namespace AntFlow.Dataflow.Building;

/// <summary>One named step of a stage, with its delegate in whichever form the user gave it.</summary>
internal sealed class TaskDefinition<TIn, TOut>
{
    private readonly Func<TIn, CancellationToken, Task<TOut>>? _async;
    private readonly Func<TIn, Task<TOut>>? _asyncNoToken;
    private readonly Func<TIn, TOut>? _sync;

    private TaskDefinition(string name, int? concurrencyLimit)
    {
        Name = name;
        ConcurrencyLimit = concurrencyLimit;
        if (concurrencyLimit is > 0 and var limit)
        {
            Limiter = new SemaphoreSlim(limit, limit);
        }
    }

    public TaskDefinition(string name, Func<TIn, CancellationToken, Task<TOut>> function, int? concurrencyLimit)
        : this(name, concurrencyLimit) => _async = function;

    public TaskDefinition(string name, Func<TIn, Task<TOut>> function, int? concurrencyLimit)
        : this(name, concurrencyLimit) => _asyncNoToken = function;

    public TaskDefinition(string name, Func<TIn, TOut> function, int? concurrencyLimit)
        : this(name, concurrencyLimit) => _sync = function;

    public string Name { get; }

    public int? ConcurrencyLimit { get; }

    /// <summary>Bounds concurrent runs of this task across the stage's workers; null when unlimited.</summary>
    public SemaphoreSlim? Limiter { get; }

    public bool HasDelegate => _async is not null || _asyncNoToken is not null || _sync is not null;

    /// <summary>Runs the delegate. Synchronous delegates and already-completed tasks complete without allocating.</summary>
    public ValueTask<TOut> InvokeAsync(TIn input, CancellationToken cancellationToken)
    {
        if (_sync is not null)
        {
            return new ValueTask<TOut>(_sync(input));
        }

        Task<TOut> task = _async is not null ? _async(input, cancellationToken) : _asyncNoToken!(input);
        return task.IsCompletedSuccessfully ? new ValueTask<TOut>(task.GetAwaiter().GetResult()) : new ValueTask<TOut>(task);
    }
}
