using System.Net;
using BatchApi;

namespace AntFlow.Dataflow.Tests.BatchApi;

[TestFixture]
public sealed class BatchWorkflowTests
{
    private string _path = null!;

    [SetUp]
    public void SetUp() => _path = Path.Combine(Path.GetTempPath(), $"antflow-workflow-{Guid.NewGuid():N}.db");

    [TearDown]
    public void TearDown()
    {
        foreach (string file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    [Test, CancelAfter(10_000)]
    public async Task DownloadAsync_ResultMissing_ThrowsInvalidData(CancellationToken ct)
    {
        BatchJob job = BatchJob.CreateSamples(1, requestsPerBatch: 2)[0];
        var handler = new ScriptedHandler(ScriptedHandler.Answer(HttpStatusCode.OK, $$"""{"custom_id":"{{job.Requests[0].CustomId}}","output":"x"}"""));
        using var client = new BatchApiClient(new Uri("http://batch.test/"), handler);
        await using SqliteBatchResultStore store = await SqliteBatchResultStore.OpenFileAsync(_path, cancellationToken: ct);
        var workflow = new BatchWorkflow(client, store, TimeSpan.FromMilliseconds(10));

        var error = Assert.ThrowsAsync<InvalidDataException>(() => workflow.DownloadAsync(new UploadedBatch(job, Info("completed")), ct));

        Assert.That(error!.Message, Is.EqualTo($"Batch 'batch-0000' has no result for '{job.Requests[1].CustomId}'."));
        Assert.That(BatchPipeline.IsTransient(error), Is.False, "bad data is not retried");
    }

    [Test, CancelAfter(10_000)]
    public async Task WaitForCompletionAsync_PollsUntilCompleted(CancellationToken ct)
    {
        BatchJob job = BatchJob.CreateSamples(1, requestsPerBatch: 2)[0];
        var handler = new ScriptedHandler(
            ScriptedHandler.Answer(HttpStatusCode.OK, ScriptedHandler.BatchJson("b1", "in_progress")),
            ScriptedHandler.Answer(HttpStatusCode.OK, ScriptedHandler.BatchJson("b1", "completed")));
        using var client = new BatchApiClient(new Uri("http://batch.test/"), handler);
        await using SqliteBatchResultStore store = await SqliteBatchResultStore.OpenFileAsync(_path, cancellationToken: ct);
        var time = new TimerWatchingTimeProvider();
        var workflow = new BatchWorkflow(client, store, TimeSpan.FromSeconds(1), time);

        Task<UploadedBatch> wait = workflow.WaitForCompletionAsync(new UploadedBatch(job, Info("validating")), ct);
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(1), ct);
        time.Advance(TimeSpan.FromSeconds(1));
        await handler.Received.ReadAsync(ct);
        await time.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(1), ct);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.That((await wait).Info.IsCompleted, Is.True);
        Assert.That(handler.Calls, Is.EqualTo(2));
    }

    [Test, CancelAfter(10_000)]
    public async Task WaitForCompletionAsync_BatchFailedOnService_Throws(CancellationToken ct)
    {
        using var client = new BatchApiClient(new Uri("http://batch.test/"), new ScriptedHandler());
        await using SqliteBatchResultStore store = await SqliteBatchResultStore.OpenFileAsync(_path, cancellationToken: ct);
        var workflow = new BatchWorkflow(client, store, TimeSpan.FromSeconds(1));

        var error = Assert.ThrowsAsync<BatchApiException>(() => workflow.WaitForCompletionAsync(new UploadedBatch(BatchJob.CreateSamples(1)[0], Info("expired")), ct));

        Assert.That(error!.Message, Is.EqualTo("Batch 'batch-0000' (b1) ended as expired on the service."));
        Assert.That(BatchPipeline.IsTransient(error), Is.False);
    }

    private static BatchInfo Info(string status) => new("b1", status, DateTimeOffset.UnixEpoch, null, 2, 0, 0);
}
