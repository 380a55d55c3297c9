using System.Numerics;
using BatchApi;

namespace AntFlow.Dataflow.Tests.BatchApi;

[TestFixture]
public sealed class SqliteCheckpointStoreTests
{
    private string _path = null!;

    [SetUp]
    public void SetUp() => _path = Path.Combine(Path.GetTempPath(), $"antflow-checkpoint-{Guid.NewGuid():N}.db");

    [TearDown]
    public void TearDown()
    {
        foreach (string file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    [Test, CancelAfter(10_000)]
    public async Task MarkCompletedAsync_ThenIsCompletedAsync_TrueOnlyForMarkedIds(CancellationToken ct)
    {
        await using SqliteCheckpointStore store = await SqliteCheckpointStore.OpenFileAsync(_path, cancellationToken: ct);

        await store.MarkCompletedAsync("batch-0001", ct);

        Assert.That(await store.IsCompletedAsync("batch-0001", ct), Is.True);
        Assert.That(await store.IsCompletedAsync("batch-0002", ct), Is.False);
        Assert.That(await store.CountAsync(ct), Is.EqualTo(1));
    }

    [Test, CancelAfter(10_000)]
    public async Task IsCompletedAsync_IntegralIdsOfAnyType_CompareByValue(CancellationToken ct)
    {
        await using SqliteCheckpointStore store = await SqliteCheckpointStore.OpenFileAsync(_path, cancellationToken: ct);

        await store.MarkCompletedAsync(7L, ct);

        Assert.That(await store.IsCompletedAsync(7, ct), Is.True);
        Assert.That(await store.IsCompletedAsync((byte)7, ct), Is.True);
        Assert.That(await store.IsCompletedAsync(new BigInteger(7), ct), Is.True);
        Assert.That(await store.IsCompletedAsync("7", ct), Is.False, "a string is not a number");
    }

    [Test, CancelAfter(10_000)]
    public async Task OpenFileAsync_Reopened_KeepsMarks(CancellationToken ct)
    {
        await using (SqliteCheckpointStore first = await SqliteCheckpointStore.OpenFileAsync(_path, cancellationToken: ct))
        {
            await first.MarkCompletedAsync(Guid.Empty, ct);
        }

        await using SqliteCheckpointStore second = await SqliteCheckpointStore.OpenFileAsync(_path, cancellationToken: ct);

        Assert.That(await second.IsCompletedAsync(Guid.Empty, ct), Is.True);
    }

    [Test, CancelAfter(10_000)]
    public async Task OpenFileAsync_TwoPipelineNames_KeepMarksApart(CancellationToken ct)
    {
        await using SqliteCheckpointStore a = await SqliteCheckpointStore.OpenFileAsync(_path, "a", cancellationToken: ct);
        await using SqliteCheckpointStore b = await SqliteCheckpointStore.OpenFileAsync(_path, "b", cancellationToken: ct);

        await a.MarkCompletedAsync(1, ct);
        await b.ClearAsync(ct);

        Assert.That(await a.IsCompletedAsync(1, ct), Is.True);
        Assert.That(await b.IsCompletedAsync(1, ct), Is.False);
    }

    [Test, CancelAfter(10_000)]
    public async Task ClearAsync_ForgetsMarks(CancellationToken ct)
    {
        await using SqliteCheckpointStore store = await SqliteCheckpointStore.OpenFileAsync(_path, cancellationToken: ct);
        await store.MarkCompletedAsync(1, ct);
        await store.MarkCompletedAsync(1, ct);

        await store.ClearAsync(ct);

        Assert.That(await store.CountAsync(ct), Is.Zero);
    }

    [Test, CancelAfter(10_000)]
    public async Task IsCompletedAsync_UnsupportedIdType_Throws(CancellationToken ct)
    {
        await using SqliteCheckpointStore store = await SqliteCheckpointStore.OpenFileAsync(_path, cancellationToken: ct);

        var error = Assert.ThrowsAsync<ArgumentException>(async () => await store.IsCompletedAsync(2.5, ct));

        Assert.That(error!.Message, Does.StartWith("Item ids of type Double cannot be stored; use strings, integral numbers or GUIDs (WithIdSelector)."));
    }

    [Test, CancelAfter(10_000)]
    public async Task WithCheckpoint_SecondRun_SkipsItemsTheFirstRunFinished(CancellationToken ct)
    {
        await using SqliteCheckpointStore store = await SqliteCheckpointStore.OpenFileAsync(_path, cancellationToken: ct);
        int calls = 0;
        Pipeline<int, int> Build() => Pipeline.Create<int>()
            .Stage("Double", (int x) =>
            {
                Interlocked.Increment(ref calls);
                return x * 2;
            }, workers: 3)
            .WithCheckpoint(store)
            .Build();

        await using (Pipeline<int, int> first = Build())
        {
            await first.RunAsync(Enumerable.Range(0, 10), ct);
        }

        await using Pipeline<int, int> second = Build();
        IReadOnlyList<PipelineResult<int>> results = await second.RunAsync(Enumerable.Range(0, 15), ct);

        Assert.That(calls, Is.EqualTo(15), "10 in the first run, only the 5 new ones in the second");
        Assert.That(results.Count(r => r.Status == ItemStatus.Skipped), Is.EqualTo(10));
        Assert.That(await store.CountAsync(ct), Is.EqualTo(15));
    }
}
