// DataflowEmbedding: a pipeline as one block inside an existing TPL Dataflow graph.
//
//   BufferBlock<string> ──► pipeline.AsBlock() ──► ActionBlock<PipelineResult<int>>
//
// Items posted upstream flow through the pipeline's stages and workers; every item comes out exactly once as a
// PipelineResult (failures included, so one bad item never faults the graph), and Complete() on the source
// travels through the pipeline to the last block.
// Run: dotnet run --project examples/DataflowEmbedding
using System.Globalization;
using System.Threading.Tasks.Dataflow;
using AntFlow.Dataflow;

// Two stages: "Parse" turns text into a number (throws on bad text), "Square" squares it (throws on overflow).
Pipeline<string, int> pipeline = Pipeline.Create<string>()
    .Stage("Parse", async (string text, CancellationToken ct) =>
    {
        await Task.Delay(20, ct); // stands in for real I/O
        return int.Parse(text, CultureInfo.InvariantCulture);
    }, workers: 4)
    .Stage("Square", (int n) => checked(n * n), workers: 2)
    .Build();

// The surrounding graph. AsBlock() needs no Start(): the pipeline runs while the block is linked and fed.
var source = new BufferBlock<string>();
IPropagatorBlock<string, PipelineResult<int>> pipelineBlock = pipeline.AsBlock();
var printer = new ActionBlock<PipelineResult<int>>(result =>
{
    // Results arrive in completion order; SequenceId is the item's position in the input.
    Console.WriteLine(result.IsSuccess
        ? $"  #{result.SequenceId}: ok      {result.Value}"
        : $"  #{result.SequenceId}: {result.Status,-7} in {result.FailedStage}: {result.Error!.GetType().Name}: {result.Error.Message}");
});

// PropagateCompletion: completing the source completes the pipeline block once every item is out, which
// completes the printer once every result is printed.
var propagate = new DataflowLinkOptions { PropagateCompletion = true };
source.LinkTo(pipelineBlock, propagate);
pipelineBlock.LinkTo(printer, propagate);

string[] inputs = ["1", "2", "three", "4", "5", "", "7", "70000", "9", "10"];
Console.WriteLine($"Posting {inputs.Length} items; \"three\" and \"\" fail in Parse, 70000 overflows in Square.");
foreach (string text in inputs)
{
    await source.SendAsync(text); // SendAsync respects the pipeline's bounded input queue
}

source.Complete();           // the only completion call: it flows through the pipeline to the printer
await printer.Completion;
Console.WriteLine($"Completion flowed through: source {source.Completion.Status}, pipeline block {pipelineBlock.Completion.Status}, printer {printer.Completion.Status}.");

PipelineStats stats = pipeline.GetStats();
Console.WriteLine($"Fed {stats.ItemsFed}, succeeded {stats.ItemsProcessed}, failed {stats.ItemsFailed}: every item came out exactly once.");
