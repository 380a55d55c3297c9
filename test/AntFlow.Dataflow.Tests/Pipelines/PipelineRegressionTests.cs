using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow.Tests.Pipelines;

/// <summary>Regression tests for behaviour found while writing the examples.</summary>
[TestFixture]
public sealed class PipelineRegressionTests
{
    [Test, CancelAfter(10_000)]
    public async Task AsBlock_AfterTheBlockCompleted_PipelineCanRunAgain(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Double", (int x) => x * 2).Build();
        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        var sink = new ActionBlock<PipelineResult<int>>(_ => { });
        block.LinkTo(sink, new DataflowLinkOptions { PropagateCompletion = true });
        await block.SendAsync(1, ct);
        block.Complete();
        await sink.Completion.WaitAsync(ct);

        // The embedded run returns the pipeline to idle once the block has completed.
        IReadOnlyList<PipelineResult<int>> results = await pipeline.RunAsync([1, 2, 3], ct);

        Assert.That(results.Select(r => r.Value), Is.EqualTo(new[] { 2, 4, 6 }));
    }

    [Test, CancelAfter(10_000)]
    public async Task DisposeAsync_AsBlockInputNeverCompleted_StopsTheBlock(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Double", (int x) => x * 2).Build();
        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        var results = new BufferBlock<PipelineResult<int>>();
        block.LinkTo(results);
        await block.SendAsync(1, ct);

        // Disposing stops the embedded run even though the graph never completed the block's input.
        await pipeline.DisposeAsync().AsTask().WaitAsync(ct);

        Assert.That(block.Completion.IsCompleted, Is.True);
    }

    [Test, CancelAfter(10_000)]
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

        // Items 0..2 finished in the first run and are skipped. The injected item's id is only its position (3L), so it
        // is not checkpointed and cannot hide item 3, which never ran.
        Assert.That(rerun.Select(r => r.Status), Is.EqualTo(new[] { ItemStatus.Skipped, ItemStatus.Skipped, ItemStatus.Skipped, ItemStatus.Completed }));
    }
}
