using System.Threading.Channels;
using System.Threading.Tasks.Dataflow;
using BenchmarkDotNet.Attributes;

namespace AntFlow.Dataflow.Benchmarks;

/// <summary>
/// W1: 1,000,000 ints through three stages of <c>x + 1</c>, four workers per stage, side by side with a hand-built
/// bounded Dataflow chain of the same shape and a Channels worker-pool chain.
/// </summary>
[MemoryDiagnoser]
public class PipelineThroughputBenchmarks
{
    private const int Workers = 4;
    private const int Capacity = 40;

    [Params(1_000_000)]
    public int Items { get; set; }

    [Benchmark(Baseline = true, Description = "Dataflow chain, Task delegates")]
    public Task DataflowChainAsync() => RunDataflowChainAsync(options => new TransformBlock<int, int>(x => Task.FromResult(x + 1), options));

    [Benchmark(Description = "AntFlow, Task delegates")]
    public Task AntFlowAsync() => Pipeline.Create<int>()
        .Stage("A", (int x) => Task.FromResult(x + 1), Workers)
        .Stage("B", (int x) => Task.FromResult(x + 1), Workers)
        .Stage("C", (int x) => Task.FromResult(x + 1), Workers)
        .CollectResults(false)
        .Build()
        .RunAsync(Enumerable.Range(0, Items));

    [Benchmark(Description = "AntFlow, Task delegates, tracker + meter listener")]
    public async Task AntFlowTrackedAsync()
    {
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AntFlow.Dataflow")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => { });
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => { });
        listener.Start();
        var tracker = new StatusTracker(new StatusTrackerOptions { MaxHistoryPerItem = 4, MaxFinishedItems = 10_000 });
        await Pipeline.Create<int>()
            .Stage("A", (int x) => Task.FromResult(x + 1), Workers)
            .Stage("B", (int x) => Task.FromResult(x + 1), Workers)
            .Stage("C", (int x) => Task.FromResult(x + 1), Workers)
            .CollectResults(false)
            .WithTracker(tracker)
            .Build()
            .RunAsync(Enumerable.Range(0, Items));
    }

    [Benchmark(Description = "Dataflow chain, sync delegates")]
    public Task DataflowChainSync() => RunDataflowChainAsync(options => new TransformBlock<int, int>(x => x + 1, options));

    [Benchmark(Description = "AntFlow, sync delegates")]
    public Task AntFlowSync() => Pipeline.Create<int>()
        .Stage("A", (int x) => x + 1, Workers)
        .Stage("B", (int x) => x + 1, Workers)
        .Stage("C", (int x) => x + 1, Workers)
        .CollectResults(false)
        .Build()
        .RunAsync(Enumerable.Range(0, Items));

    /// <summary>
    /// AntFlow's block shape without its bookkeeping: per stage a priority queue feeding a bounded TransformBlock whose
    /// delegate posts straight to the next queue. The floor for any pipeline built the way AntFlow's stages are.
    /// </summary>
    [Benchmark(Description = "Queue + transform per stage, no bookkeeping, sync work")]
    public async Task QueueTransformShapeSync()
    {
        var sink = new ActionBlock<int>(_ => { }, new ExecutionDataflowBlockOptions { BoundedCapacity = Capacity });
        ITargetBlock<int> next = sink;
        for (int stage = 0; stage < 3; stage++)
        {
            var queue = new PriorityBufferBlock<int>(static _ => 100, new DataflowBlockOptions { BoundedCapacity = Capacity }, offerOnConsumingThread: true);
            ITargetBlock<int> target = next;
            var workers = new TransformBlock<int, int>(
                x => target.Post(x + 1) ? null! : Task.FromResult(x + 1),
                new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = Workers, BoundedCapacity = Workers, EnsureOrdered = false, SingleProducerConstrained = true });
            queue.LinkTo(workers, new DataflowLinkOptions { PropagateCompletion = true });
            workers.LinkTo(target, new DataflowLinkOptions { PropagateCompletion = true });
            next = queue;
        }

        ITargetBlock<int> first = next;
        for (int i = 0; i < Items; i++)
        {
            if (!first.Post(i))
            {
                await first.SendAsync(i);
            }
        }

        first.Complete();
        await sink.Completion;
    }

    [Benchmark(Description = "Channels worker pools, Task delegates")]
    public async Task ChannelsAsync()
    {
        Func<int, Task<int>> work = x => Task.FromResult(x + 1);
        Channel<int> first = Channel.CreateBounded<int>(Capacity);
        Channel<int> second = Channel.CreateBounded<int>(Capacity);
        Channel<int> third = Channel.CreateBounded<int>(Capacity);
        Channel<int> output = Channel.CreateBounded<int>(Capacity);
        Task stage1 = Pool(first.Reader, second.Writer, work);
        Task stage2 = Pool(second.Reader, third.Writer, work);
        Task stage3 = Pool(third.Reader, output.Writer, work);
        Task consume = Task.Run(async () =>
        {
            long sum = 0;
            await foreach (int x in output.Reader.ReadAllAsync())
            {
                sum += x;
            }
        });
        for (int i = 0; i < Items; i++)
        {
            await first.Writer.WriteAsync(i);
        }

        first.Writer.Complete();
        await Task.WhenAll(stage1, stage2, stage3, consume);

        static async Task Pool(ChannelReader<int> reader, ChannelWriter<int> writer, Func<int, Task<int>> work)
        {
            await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
            {
                await foreach (int x in reader.ReadAllAsync())
                {
                    await writer.WriteAsync(await work(x));
                }
            })));
            writer.Complete();
        }
    }

    /// <summary>The hand-built reference: three transforms made by <paramref name="createStage"/> and an action block.</summary>
    private async Task RunDataflowChainAsync(Func<ExecutionDataflowBlockOptions, TransformBlock<int, int>> createStage)
    {
        var options = new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = Workers, BoundedCapacity = Capacity, EnsureOrdered = false };
        var link = new DataflowLinkOptions { PropagateCompletion = true };
        TransformBlock<int, int> a = createStage(options);
        TransformBlock<int, int> b = createStage(options);
        TransformBlock<int, int> c = createStage(options);
        long sum = 0;
        var sink = new ActionBlock<int>(x => sum += x, new ExecutionDataflowBlockOptions { BoundedCapacity = Capacity });
        a.LinkTo(b, link);
        b.LinkTo(c, link);
        c.LinkTo(sink, link);
        for (int i = 0; i < Items; i++)
        {
            if (!a.Post(i))
            {
                await a.SendAsync(i);
            }
        }

        a.Complete();
        await sink.Completion;
    }
}
