using BatchApi;
using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.BatchApi;

[TestFixture]
public sealed class SqliteBatchResultStoreTests
{
    private string _path = null!;

    [SetUp]
    public void SetUp() => _path = Path.Combine(Path.GetTempPath(), $"antflow-results-{Guid.NewGuid():N}.db");

    [TearDown]
    public void TearDown()
    {
        foreach (string file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    [Test, CancelAfter(10_000)]
    public async Task SaveAsync_SameBatchTwice_KeepsOneRowAndCountsTheSaves(CancellationToken ct)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using SqliteBatchResultStore store = await SqliteBatchResultStore.OpenFileAsync(_path, time, ct);
        DownloadedBatch batch = Downloaded(0);

        BatchResultRecord first = await store.SaveAsync(batch, ct);
        time.Advance(TimeSpan.FromMinutes(1));
        BatchResultRecord second = await store.SaveAsync(batch, ct);

        Assert.That((first.SaveCount, second.SaveCount), Is.EqualTo((1, 2)));
        IReadOnlyList<BatchResultRecord> rows = await store.ReadAllAsync(ct);
        Assert.That(rows, Has.Count.EqualTo(1));
        Assert.That(rows[0].BatchId, Is.EqualTo("batch-0000"));
        Assert.That(rows[0].RemoteId, Is.EqualTo("remote-0"));
        Assert.That(rows[0].Outputs, Is.EqualTo(batch.Outputs));
        Assert.That(rows[0].SavedAt, Is.EqualTo(time.GetUtcNow()));
        Assert.That(rows[0].SaveCount, Is.EqualTo(2));
    }

    [Test, CancelAfter(10_000)]
    public async Task SaveAsync_ManyWritersAtOnce_SavesEveryRow(CancellationToken ct)
    {
        await using SqliteBatchResultStore store = await SqliteBatchResultStore.OpenFileAsync(_path, cancellationToken: ct);

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => store.SaveAsync(Downloaded(i), ct), ct)));

        Assert.That(await store.CountAsync(ct), Is.EqualTo(50));
        Assert.That((await store.ReadAllAsync(ct)).Select(r => r.SaveCount), Is.All.EqualTo(1));
    }

    [Test, CancelAfter(10_000)]
    public async Task SaveAsync_AfterDispose_Throws(CancellationToken ct)
    {
        SqliteBatchResultStore store = await SqliteBatchResultStore.OpenFileAsync(_path, cancellationToken: ct);
        await store.DisposeAsync();

        Assert.ThrowsAsync<ObjectDisposedException>(() => store.SaveAsync(Downloaded(0), ct));
    }

    private static DownloadedBatch Downloaded(int index)
    {
        BatchJob job = BatchJob.CreateSamples(index + 1, requestsPerBatch: 3)[index];
        var info = new BatchInfo($"remote-{index}", "completed", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(5), 3, 3, 0);
        return new DownloadedBatch(job, info, BatchApiTestHost.ExpectedOutputs(job));
    }
}
