using BenchmarkDotNet.Attributes;

namespace AntFlow.Dataflow.Benchmarks;

/// <summary>
/// <see cref="AsyncExecutor.MapAsync{T, TResult}(IEnumerable{T}, Func{T, CancellationToken, Task{TResult}}, int, CancellationToken)"/>
/// over a million trivial inputs, against <see cref="Parallel.ForEachAsync{TSource}(IEnumerable{TSource}, ParallelOptions, Func{TSource, CancellationToken, ValueTask})"/>
/// with the same degree of parallelism collecting into an array. This measures the executor's own overhead per input.
/// </summary>
[MemoryDiagnoser]
public class ExecutorBenchmarks
{
    private const int Count = 1_000_000;

    private static readonly Func<int, CancellationToken, Task<int>> Increment = static (x, _) => Task.FromResult(x + 1);

    private int[] _items = [];
    private AsyncExecutor? _executor;

    /// <summary>Gets or sets the degree of parallelism of both sides.</summary>
    [Params(4, 16)]
    public int Workers { get; set; }

    /// <summary>Creates the inputs and the executor.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _items = Enumerable.Range(0, Count).ToArray();
        _executor = new AsyncExecutor(Workers);
    }

    /// <summary>Shuts the executor down.</summary>
    /// <returns>A task that completes when the executor has shut down.</returns>
    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_executor is not null)
        {
            await _executor.DisposeAsync();
        }
    }

    /// <summary>The baseline: Parallel.ForEachAsync writing each result into its slot.</summary>
    /// <returns>The results.</returns>
    [Benchmark(Baseline = true)]
    public async Task<int[]> ParallelForEachAsync()
    {
        int[] items = _items;
        var results = new int[items.Length];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, items.Length),
            new ParallelOptions { MaxDegreeOfParallelism = Workers },
            async (i, ct) => results[i] = await Increment(items[i], ct));
        return results;
    }

    /// <summary>The executor's MapAsync without retries.</summary>
    /// <returns>The results.</returns>
    [Benchmark]
    public Task<IReadOnlyList<int>> MapAsync() => _executor!.MapAsync(_items, Increment);

    /// <summary>The executor's MapAsync with retries, so every input goes through the Polly pipeline.</summary>
    /// <returns>The results.</returns>
    [Benchmark]
    public Task<IReadOnlyList<int>> MapAsyncWithRetries() => _executor!.MapAsync(_items, Increment, retries: 3);
}
