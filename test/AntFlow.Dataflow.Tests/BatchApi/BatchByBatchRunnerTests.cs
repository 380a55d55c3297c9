using BatchApi;

namespace AntFlow.Dataflow.Tests.BatchApi;

[TestFixture]
public sealed class BatchByBatchRunnerTests
{
    [Test, CancelAfter(30_000)]
    public async Task RunAsync_FlakyService_SavesEveryBatch(CancellationToken ct)
    {
        // No hangs: a group waits for its slowest batch, and a hung call would add a whole attempt timeout to the test.
        FakeBatchService.FakeBatchServiceOptions service = BatchApiTestHost.FastService();
        service.HangRate = 0;
        await using BatchApiTestHost host = await BatchApiTestHost.StartAsync(service, BatchApiTestHost.FastClient(), ct);
        var runner = new BatchByBatchRunner(new BatchWorkflow(host.Client, host.Store, TimeSpan.FromMilliseconds(20)), groupSize: 10);
        IReadOnlyList<BatchJob> jobs = BatchJob.CreateSamples(30);

        BatchByBatchReport report = await runner.RunAsync(jobs, ct);

        Assert.That((report.Saved, report.Failed), Is.EqualTo((30, 0)), string.Join("; ", report.Errors.Select(e => $"{e.Key}: {e.Value.Message}")));
        IReadOnlyList<BatchResultRecord> rows = await host.Store.ReadAllAsync(ct);
        Assert.That(rows.Select(r => r.BatchId), Is.EqualTo(jobs.Select(j => j.BatchId)));
    }

    [Test, CancelAfter(10_000)]
    public async Task Constructor_InvalidArguments_Throw(CancellationToken ct)
    {
        await using BatchApiTestHost host = await BatchApiTestHost.StartAsync(BatchApiTestHost.FastService(), BatchApiTestHost.FastClient(), ct);
        var workflow = new BatchWorkflow(host.Client, host.Store, TimeSpan.FromMilliseconds(20));

        Assert.Throws<ArgumentNullException>(() => new BatchByBatchRunner(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchByBatchRunner(workflow, groupSize: 0));
    }
}
