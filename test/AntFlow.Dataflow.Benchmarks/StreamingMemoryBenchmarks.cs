using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using BenchmarkDotNet.Attributes;

namespace AntFlow.Dataflow.Benchmarks;

/// <summary>
/// W3: millions of items streamed with nothing collected. Reports the process's peak working set growth during
/// the run (BenchmarkDotNet measures time and allocations; the peak is printed per run), against the hand-built
/// bounded chain. Memory must stay flat as the item count grows.
/// </summary>
[MemoryDiagnoser]
public class StreamingMemoryBenchmarks
{
    private const int Workers = 4;

    [Params(1_000_000, 5_000_000)]
    public int Items { get; set; }

    [Benchmark(Baseline = true, Description = "Dataflow chain, streamed")]
    public async Task DataflowChainAsync()
    {
        using var peak = new PeakWorkingSet("dataflow", Items);
        var options = new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = Workers, BoundedCapacity = 40, EnsureOrdered = false };
        var link = new DataflowLinkOptions { PropagateCompletion = true };
        var a = new TransformBlock<int, int>(x => x + 1, options);
        var b = new TransformBlock<int, int>(x => x + 1, options);
        long count = 0;
        var sink = new ActionBlock<int>(_ => count++, new ExecutionDataflowBlockOptions { BoundedCapacity = 40 });
        a.LinkTo(b, link);
        b.LinkTo(sink, link);
        for (int i = 0; i < Items; i++)
        {
            if (!a.Post(i))
            {
                await a.SendAsync(i);
            }

            peak.Sample(i);
        }

        a.Complete();
        await sink.Completion;
    }

    [Benchmark(Description = "AntFlow StreamAsync, nothing kept")]
    public async Task AntFlowStreamAsync()
    {
        using var peak = new PeakWorkingSet("antflow", Items);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("A", (int x) => x + 1, Workers)
            .Stage("B", (int x) => x + 1, Workers)
            .CollectResults(false)
            .Build();
        long count = 0;
        await foreach (PipelineResult<int> result in pipeline.StreamAsync(Enumerable.Range(0, Items)))
        {
            count += result.IsSuccess ? 1 : 0;
            peak.Sample((int)count);
        }
    }

    /// <summary>Samples the working set every 64k items and prints the peak when disposed.</summary>
    private sealed class PeakWorkingSet(string name, int items) : IDisposable
    {
        private readonly long _start = Environment.WorkingSet;
        private long _peak = Environment.WorkingSet;

        public void Sample(int i)
        {
            if ((i & 0xFFFF) == 0)
            {
                _peak = Math.Max(_peak, Environment.WorkingSet);
            }
        }

        public void Dispose()
        {
            Sample(0);
            Console.WriteLine($"// W3 {name} N={items}: peak working set {_peak / (1024 * 1024)} MB (start {_start / (1024 * 1024)} MB)");
            Debug.Assert(_peak >= _start, "peak is at least the start");
        }
    }
}
