using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow.Tests.Pipelines;

/// <summary>
/// Behaviour found while writing the examples that looks wrong. Each test states what a user would expect and
/// fails today; they are explicit so the suite stays green until the library is fixed.
/// </summary>
[TestFixture]
public sealed class ExampleFindingsTests
{
    [Test, Explicit("repro"), CancelAfter(10_000)]
    public async Task AsBlock_AfterTheBlockCompleted_PipelineCanRunAgain(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Double", (int x) => x * 2).Build();
        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        var sink = new ActionBlock<PipelineResult<int>>(_ => { });
        block.LinkTo(sink, new DataflowLinkOptions { PropagateCompletion = true });
        await block.SendAsync(1, ct);
        block.Complete();
        await sink.Completion.WaitAsync(ct);

        // Today: InvalidOperationException "The pipeline is in use as a Dataflow block (AsBlock)." — the embedded run
        // never returns the pipeline to idle, unlike RunAsync, StreamAsync and CompleteAsync.
        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync([1, 2, 3], ct);

        Assert.That(results.Select(r => r.Value), Is.EqualTo(new[] { 2, 4, 6 }));
    }

    [Test, Explicit("repro"), CancelAfter(10_000)]
    public async Task DisposeAsync_AsBlockInputNeverCompleted_StopsTheBlock(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Double", (int x) => x * 2).Build();
        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        var results = new BufferBlock<PipelineResult<int>>();
        block.LinkTo(results);
        await block.SendAsync(1, ct);

        // Today this never returns: ShutdownAsync stops the engine but completes its input only for Start()ed
        // pipelines, and the pump behind AsBlock() keeps waiting for the block's input to complete, so the first
        // stage never sees "upstream complete" and the engine never finishes. `await using` around a pipeline used
        // with AsBlock() therefore hangs whenever the graph was not completed first (an exception in between, say).
        await pipeline.DisposeAsync().AsTask().WaitAsync(ct);

        Assert.That(block.Completion.IsCompleted, Is.True);
    }

    [Test, Explicit("repro"), CancelAfter(10_000)]
    public async Task WithCheckpoint_ItemInjectedIntoLaterStage_DoesNotMarkTheRerunItemAtItsPosition(CancellationToken ct)
    {
        var store = new InMemoryCheckpointStore();
        await using Pipeline<int, string> pipeline = Pipeline.Create<int>()
            .Stage("Fetch", (int x) => $"page{x}")
            .Stage("Process", (string s) => s.ToUpperInvariant())
            .WithCheckpoint(store)
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync([0, 1, 2], cancellationToken: ct);
        await pipeline.FeedAsync<string>(["injected"], targetStage: "Process", cancellationToken: ct);
        await pipeline.CompleteAsync();

        IReadOnlyList<PipelineResult<string>> rerun = await pipeline.RunAsync([0, 1, 2, 3], ct);

        // Items 0..2 finished in the first run and are skipped. Item 3 never ran, but the injected item was marked
        // under its own position (3L), so today item 3 comes out Skipped with no value instead of "PAGE3".
        Assert.That(rerun.Select(r => r.Status), Is.EqualTo(new[] { ItemStatus.Skipped, ItemStatus.Skipped, ItemStatus.Skipped, ItemStatus.Completed }));
    }
}
