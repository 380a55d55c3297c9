using System.Collections.Concurrent;
using System.Net;
using BatchApi;
using FakeBatchService;

namespace AntFlow.Dataflow.Tests.BatchApi;

[TestFixture]
public sealed class BatchPipelineTests
{
    private const int Batches = 200;

    [Test, CancelAfter(60_000)]
    public async Task Create_200BatchesAgainstFlakyService_SavesEveryBatchExactlyOnceAndRetriesEveryFault(CancellationToken ct)
    {
        await using BatchApiTestHost host = await BatchApiTestHost.StartAsync(BatchApiTestHost.FastService(), BatchApiTestHost.FastClient(), ct);
        await using var tracker = new StatusTracker();
        var faults = new FaultLog(tracker);
        var saved = new ConcurrentBag<string>();
        BatchPipelineOptions options = BatchApiTestHost.FastPipeline();
        options.Tracker = tracker;
        options.OnSaved = record => saved.Add(record.BatchId);
        IReadOnlyList<BatchJob> jobs = BatchJob.CreateSamples(Batches);
        await using Pipeline<BatchJob, BatchResultRecord> pipeline = BatchPipeline.Create(host.Client, host.Store, options);

        IReadOnlyList<PipelineResult<BatchResultRecord>> results = await pipeline.RunAsync(jobs, ct);
        await tracker.FlushAsync(ct);

        Assert.That(results.Where(r => !r.IsSuccess).Select(r => $"{r.Id}: {r.Error}"), Is.Empty);
        await AssertAllSavedOnceAsync(host, jobs, ct);
        Assert.That(saved.Order(StringComparer.Ordinal), Is.EqualTo(jobs.Select(j => j.BatchId)), "each batch saved exactly once");

        FakeBatchServiceStats service = host.Server.GetStats();
        BatchApiClientStats client = host.Client.GetStats();
        Assert.That(service.BatchesCreated, Is.EqualTo(Batches), "one batch per job on the service, whatever the retries");
        Assert.That(service.Throttled, Is.GreaterThan(0));
        Assert.That(service.ServerErrors, Is.GreaterThan(0));
        AssertEveryFaultRetried(service, client, faults);
    }

    [Test, CancelAfter(60_000)]
    public async Task Create_HttpRetriesOff_StagesRetryEveryFaultTheServiceHandedOut(CancellationToken ct)
    {
        // No rate limit here: the seeded 429s are enough, and a burst of rate-limit answers could outlast the stage's attempts.
        FakeBatchServiceOptions serviceOptions = BatchApiTestHost.FastService();
        serviceOptions.RequestsPerSecond = null;
        await using BatchApiTestHost host = await BatchApiTestHost.StartAsync(serviceOptions, BatchApiTestHost.FastClient(maxRetryAttempts: 0), ct);
        await using var tracker = new StatusTracker();
        var faults = new FaultLog(tracker);
        BatchPipelineOptions options = BatchApiTestHost.FastPipeline();
        options.Tracker = tracker;
        IReadOnlyList<BatchJob> jobs = BatchJob.CreateSamples(Batches);
        await using Pipeline<BatchJob, BatchResultRecord> pipeline = BatchPipeline.Create(host.Client, host.Store, options);

        IReadOnlyList<PipelineResult<BatchResultRecord>> results = await pipeline.RunAsync(jobs, ct);
        await tracker.FlushAsync(ct);

        Assert.That(results.Where(r => !r.IsSuccess).Select(r => $"{r.Id}: {r.Error}"), Is.Empty);
        await AssertAllSavedOnceAsync(host, jobs, ct);
        FakeBatchServiceStats service = host.Server.GetStats();
        BatchApiClientStats client = host.Client.GetStats();
        Assert.That(client.Retries, Is.Zero);
        Assert.That(faults.Throttled, Is.GreaterThan(0), "429s reached the stages");
        Assert.That(faults.ServerErrors, Is.GreaterThan(0), "500s reached the stages");
        AssertEveryFaultRetried(service, client, faults);
    }

    [Test, CancelAfter(60_000)]
    public async Task Create_CancelledAfterSavesThenRunAgain_FinishesTheRestWithoutRedoingSavedBatches(CancellationToken ct)
    {
        const int cancelAfterSaves = 60;
        await using BatchApiTestHost host = await BatchApiTestHost.StartAsync(BatchApiTestHost.FastService(), BatchApiTestHost.FastClient(), ct);
        SqliteCheckpointStore checkpoint = await host.OpenCheckpointAsync(ct);
        IReadOnlyList<BatchJob> jobs = BatchJob.CreateSamples(Batches);

        // First run: stopped from inside the pipeline right after the 60th save.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        int firstRunSaves = 0;
        BatchPipelineOptions first = BatchApiTestHost.FastPipeline();
        first.Checkpoint = checkpoint;
        first.OnSaved = _ =>
        {
            if (Interlocked.Increment(ref firstRunSaves) == cancelAfterSaves)
            {
                stop.Cancel();
            }
        };
        await using (Pipeline<BatchJob, BatchResultRecord> pipeline = BatchPipeline.Create(host.Client, host.Store, first))
        {
            Assert.That(async () => await pipeline.RunAsync(jobs, stop.Token), Throws.InstanceOf<OperationCanceledException>());
        }

        IReadOnlyList<BatchResultRecord> savedFirst = await host.Store.ReadAllAsync(ct);
        Assert.That(savedFirst, Has.Count.GreaterThanOrEqualTo(cancelAfterSaves).And.Count.LessThan(Batches));
        Assert.That(savedFirst, Has.Count.EqualTo(Volatile.Read(ref firstRunSaves)));
        Assert.That(await checkpoint.CountAsync(ct), Is.EqualTo(savedFirst.Count), "every saved batch is checkpointed");
        IReadOnlyDictionary<string, int> uploadsAfterFirst = host.Server.GetStats().UploadRequestsByKey;

        // Second run: same database, same service.
        await using var tracker = new StatusTracker();
        int secondRunSaves = 0;
        BatchPipelineOptions second = BatchApiTestHost.FastPipeline();
        second.Checkpoint = checkpoint;
        second.Tracker = tracker;
        second.OnSaved = _ => Interlocked.Increment(ref secondRunSaves);
        await using (Pipeline<BatchJob, BatchResultRecord> pipeline = BatchPipeline.Create(host.Client, host.Store, second))
        {
            IReadOnlyList<PipelineResult<BatchResultRecord>> results = await pipeline.RunAsync(jobs, ct);
            Assert.That(results.Where(r => !r.IsSuccess).Select(r => $"{r.Id}: {r.Error}"), Is.Empty);
            Assert.That(results.Count(r => r.Status == ItemStatus.Skipped), Is.EqualTo(savedFirst.Count));
        }

        await AssertAllSavedOnceAsync(host, jobs, ct);
        Assert.That(secondRunSaves, Is.EqualTo(Batches - savedFirst.Count), "the second run saved only the rest");
        IReadOnlyDictionary<string, int> uploadsAfterSecond = host.Server.GetStats().UploadRequestsByKey;
        Assert.Multiple(() =>
        {
            foreach (BatchResultRecord row in savedFirst)
            {
                Assert.That(uploadsAfterSecond[row.BatchId], Is.EqualTo(uploadsAfterFirst[row.BatchId]), $"{row.BatchId} was uploaded again");
                Assert.That(tracker.GetStatus(row.BatchId)?.Status, Is.EqualTo(ItemStatus.Skipped), row.BatchId);
            }
        });
        Assert.That(await checkpoint.CountAsync(ct), Is.EqualTo(Batches));
    }

    private static async Task AssertAllSavedOnceAsync(BatchApiTestHost host, IReadOnlyList<BatchJob> jobs, CancellationToken ct)
    {
        IReadOnlyList<BatchResultRecord> rows = await host.Store.ReadAllAsync(ct);
        Assert.That(rows.Select(r => r.BatchId), Is.EqualTo(jobs.Select(j => j.BatchId)), "one row per batch, none missing");
        Assert.Multiple(() =>
        {
            foreach ((BatchResultRecord row, BatchJob job) in rows.Zip(jobs))
            {
                Assert.That(row.SaveCount, Is.EqualTo(1), $"{row.BatchId} written more than once");
                Assert.That(row.Outputs, Is.EqualTo(BatchApiTestHost.ExpectedOutputs(job)), $"{row.BatchId} results");
            }
        });
    }

    /// <summary>
    /// Every 429 and 500 the service handed out reached the client (unless the client had given up on that call: a
    /// timeout beyond the service's deliberate hangs), and every one the client received was retried, by the HTTP
    /// client or by a stage (seen by the tracker).
    /// </summary>
    private static void AssertEveryFaultRetried(FakeBatchServiceStats service, BatchApiClientStats client, FaultLog faults)
    {
        long handedOut = service.Throttled + service.ServerErrors;
        long received = client.ThrottledResponses + client.ServerErrorResponses;
        long abandonedBeyondHangs = client.Timeouts - service.Hangs;
        Assert.Multiple(() =>
        {
            Assert.That(client.Timeouts, Is.GreaterThanOrEqualTo(service.Hangs), "every hung call was timed out");
            Assert.That(received, Is.LessThanOrEqualTo(handedOut));
            Assert.That(handedOut - received, Is.LessThanOrEqualTo(abandonedBeyondHangs), "faults the client never saw");
            Assert.That(client.RetriesAfterThrottle + faults.Throttled, Is.EqualTo(client.ThrottledResponses), "429s retried");
            Assert.That(client.RetriesAfterServerError + faults.ServerErrors, Is.EqualTo(client.ServerErrorResponses), "5xx retried");
            Assert.That(faults.StageRetries, Is.EqualTo(faults.TaskFailures), "every failed task run was retried by its stage");
        });
    }

    /// <summary>Counts, from the tracker, the failed task runs caused by 429 and 5xx answers, and the stage retries.</summary>
    private sealed class FaultLog
    {
        private int _throttled;
        private int _serverErrors;
        private int _taskFailures;
        private int _stageRetries;

        public FaultLog(StatusTracker tracker)
        {
            tracker.Subscribe((TaskEvent e) =>
            {
                if (e.EventType == TaskEventType.Fail)
                {
                    Interlocked.Increment(ref _taskFailures);
                    if (e.Error is BatchApiException { StatusCode: HttpStatusCode.TooManyRequests })
                    {
                        Interlocked.Increment(ref _throttled);
                    }
                    else if (e.Error is BatchApiException { StatusCode: { } code } && (int)code >= 500)
                    {
                        Interlocked.Increment(ref _serverErrors);
                    }
                }

                return Task.CompletedTask;
            });
            tracker.Subscribe((StatusEvent e) =>
            {
                if (e.Status == ItemStatus.Retrying)
                {
                    Interlocked.Increment(ref _stageRetries);
                }

                return Task.CompletedTask;
            });
        }

        public int Throttled => Volatile.Read(ref _throttled);

        public int ServerErrors => Volatile.Read(ref _serverErrors);

        public int TaskFailures => Volatile.Read(ref _taskFailures);

        public int StageRetries => Volatile.Read(ref _stageRetries);
    }
}
