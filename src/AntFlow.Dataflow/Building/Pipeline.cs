namespace AntFlow.Dataflow;

/// <summary>Entry points: <see cref="Create{T}"/> to build a pipeline, <c>QuickAsync</c> for one-liners.</summary>
public static class Pipeline
{
    /// <summary>Starts building a pipeline whose input items are <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The input type.</typeparam>
    /// <returns>A builder to add stages to.</returns>
    public static PipelineBuilder<T, T> Create<T>() => new(new Building.PipelineBuildState<T>());

    /// <summary>Runs <paramref name="task"/> over <paramref name="items"/> with a pool of workers and returns one result per item, in input order.</summary>
    /// <typeparam name="T">The input type.</typeparam>
    /// <typeparam name="TResult">The output type.</typeparam>
    /// <param name="items">The input.</param>
    /// <param name="task">The work to do per item.</param>
    /// <param name="workers">How many items run at once. At least 1.</param>
    /// <param name="retries">How many times a failing item is retried (attempts = retries + 1, per-task, with backoff). From 0 to 9,999.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The results, failures included.</returns>
    public static Task<IReadOnlyList<PipelineResult<TResult>>> QuickAsync<T, TResult>(
        IEnumerable<T> items, Func<T, CancellationToken, Task<TResult>> task, int workers = 5, int retries = 3, CancellationToken cancellationToken = default) =>
        QuickAsync(items, stage => stage.Task("Stage0", task), workers, retries, cancellationToken);

    /// <inheritdoc cref="QuickAsync{T, TResult}(IEnumerable{T}, Func{T, CancellationToken, Task{TResult}}, int, int, CancellationToken)"/>
    public static Task<IReadOnlyList<PipelineResult<TResult>>> QuickAsync<T, TResult>(
        IEnumerable<T> items, Func<T, Task<TResult>> task, int workers = 5, int retries = 3, CancellationToken cancellationToken = default) =>
        QuickAsync(items, stage => stage.Task("Stage0", task), workers, retries, cancellationToken);

    /// <inheritdoc cref="QuickAsync{T, TResult}(IEnumerable{T}, Func{T, CancellationToken, Task{TResult}}, int, int, CancellationToken)"/>
    public static Task<IReadOnlyList<PipelineResult<TResult>>> QuickAsync<T, TResult>(
        IEnumerable<T> items, Func<T, TResult> task, int workers = 5, int retries = 3, CancellationToken cancellationToken = default) =>
        QuickAsync(items, stage => stage.Task("Stage0", task), workers, retries, cancellationToken);

    /// <summary>Runs each item through <paramref name="tasks"/> in order, one stage per task (named <c>"Stage{i}"</c>), each with its own pool of workers.</summary>
    /// <typeparam name="T">The item type, kept through every stage.</typeparam>
    /// <param name="items">The input.</param>
    /// <param name="tasks">The steps, in order. At least one.</param>
    /// <param name="workers">Workers per stage. At least 1.</param>
    /// <param name="retries">Retries per failing task (attempts = retries + 1). From 0 to 9,999.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The results, failures included, in input order.</returns>
    public static Task<IReadOnlyList<PipelineResult<T>>> QuickAsync<T>(
        IEnumerable<T> items, IEnumerable<Func<T, CancellationToken, Task<T>>> tasks, int workers = 5, int retries = 3, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        PipelineBuilder<T, T> builder = Create<T>();
        int i = 0;
        foreach (Func<T, CancellationToken, Task<T>> task in tasks)
        {
            string name = $"Stage{i++}";
            builder = builder.Stage<T>(name, s => WithPool(s.Task(name, task), workers, retries));
        }

        return builder.Build().RunAsync(items, cancellationToken);
    }

    private static Task<IReadOnlyList<PipelineResult<TResult>>> QuickAsync<T, TResult>(
        IEnumerable<T> items, Func<StageBuilder<T, T>, StageBuilder<T, TResult>> addTask, int workers, int retries, CancellationToken cancellationToken) =>
        Create<T>().Stage<TResult>("Stage0", s => WithPool(addTask(s), workers, retries)).Build().RunAsync(items, cancellationToken);

    /// <summary>The one-liners' stage settings: <paramref name="workers"/> workers, per-task retries counted as in the executor (attempts = retries + 1).</summary>
    private static StageBuilder<TIn, TOut> WithPool<TIn, TOut>(StageBuilder<TIn, TOut> stage, int workers, int retries) =>
        stage.Workers(workers).Retry(RetryMode.PerTask, attempts: retries + 1);
}
