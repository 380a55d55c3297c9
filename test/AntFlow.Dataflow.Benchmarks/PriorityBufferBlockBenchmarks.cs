using System.Threading.Tasks.Dataflow;
using BenchmarkDotNet.Attributes;

namespace AntFlow.Dataflow.Benchmarks;

/// <summary>
/// Throughput of <see cref="PriorityBufferBlock{T}"/> against <see cref="BufferBlock{T}"/> in the same shape:
/// one SendAsync producer, the block, and a linked ActionBlock consumer.
/// </summary>
[MemoryDiagnoser]
public class PriorityBufferBlockBenchmarks
{
    private const int Items = 100_000;

    /// <summary>Gets or sets the buffer's bounded capacity (-1: unbounded).</summary>
    [Params(100, DataflowBlockOptions.Unbounded)]
    public int Capacity { get; set; }

    /// <summary>
    /// Gets or sets the consumer's bounded capacity: -1 takes every offer at once; 1 makes it postpone
    /// offers and come back for them, as a busy worker pool does.
    /// </summary>
    [Params(DataflowBlockOptions.Unbounded, 1)]
    public int ConsumerCapacity { get; set; }

    /// <summary>The runtime's FIFO buffer.</summary>
    /// <returns>A task that completes when the consumer has seen every item.</returns>
    [Benchmark(Baseline = true)]
    public Task<long> BufferBlock() => RunAsync(new BufferBlock<int>(new DataflowBlockOptions { BoundedCapacity = Capacity }));

    /// <summary>The priority buffer, with eight priority levels.</summary>
    /// <returns>A task that completes when the consumer has seen every item.</returns>
    [Benchmark]
    public Task<long> PriorityBufferBlock() =>
        RunAsync(new PriorityBufferBlock<int>(item => item & 7, new DataflowBlockOptions { BoundedCapacity = Capacity }));

    private async Task<long> RunAsync(IPropagatorBlock<int, int> block)
    {
        long sum = 0;
        var consumer = new ActionBlock<int>(item => sum += item, new ExecutionDataflowBlockOptions { BoundedCapacity = ConsumerCapacity });
        block.LinkTo(consumer, new DataflowLinkOptions { PropagateCompletion = true });
        for (int i = 0; i < Items; i++)
        {
            await block.SendAsync(i).ConfigureAwait(false);
        }

        block.Complete();
        await consumer.Completion.ConfigureAwait(false);
        return sum;
    }
}
