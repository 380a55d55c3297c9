using System.Threading.Tasks.Dataflow;
using BenchmarkDotNet.Attributes;

namespace AntFlow.Dataflow.Benchmarks;

/// <summary>
/// W2: 2,000 items with heavy-tailed async delays (seeded: 90 % 1–5 ms, 10 % 20–60 ms) on 50 workers. Makespan of
/// AntFlow against a hand-built ActionBlock (MDOP 50) and batch-by-batch <c>Task.WhenAll</c> chunks of 50.
/// </summary>
[MemoryDiagnoser]
public class MakespanBenchmarks
{
    private const int Workers = 50;
    private int[] _delays = [];

    [Params(2_000)]
    public int Items { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(12345);
        _delays = Enumerable.Range(0, Items).Select(_ => random.NextDouble() < 0.9 ? random.Next(1, 6) : random.Next(20, 61)).ToArray();
    }

    [Benchmark(Baseline = true, Description = "ActionBlock MDOP 50")]
    public async Task ActionBlockAsync()
    {
        var block = new ActionBlock<int>(i => Task.Delay(_delays[i]), new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = Workers });
        for (int i = 0; i < Items; i++)
        {
            block.Post(i);
        }

        block.Complete();
        await block.Completion;
    }

    [Benchmark(Description = "AntFlow 50 workers")]
    public Task AntFlowAsync() => Pipeline.Create<int>()
        .Stage("Work", async (int i, CancellationToken ct) =>
        {
            await Task.Delay(_delays[i], ct);
            return i;
        }, Workers)
        .Build()
        .RunAsync(Enumerable.Range(0, Items));

    [Benchmark(Description = "AntFlow 50 workers + tracker")]
    public Task AntFlowTrackedAsync() => Pipeline.Create<int>()
        .Stage("Work", async (int i, CancellationToken ct) =>
        {
            await Task.Delay(_delays[i], ct);
            return i;
        }, Workers)
        .WithTracker(new StatusTracker())
        .Build()
        .RunAsync(Enumerable.Range(0, Items));

    [Benchmark(Description = "Task.WhenAll chunks of 50")]
    public async Task BatchesAsync()
    {
        foreach (int[] chunk in Enumerable.Range(0, Items).Chunk(Workers))
        {
            await Task.WhenAll(chunk.Select(i => Task.Delay(_delays[i])));
        }
    }
}
