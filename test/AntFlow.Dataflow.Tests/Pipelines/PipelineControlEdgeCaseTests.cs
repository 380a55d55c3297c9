using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace AntFlow.Dataflow.Tests.Pipelines;

/// <summary>Edge cases of running and controlling a pipeline: races between feeding and stopping, restarts, checkpoints.</summary>
[TestFixture]
public sealed class PipelineControlEdgeCaseTests
{
    [Test, CancelAfter(10_000)]
    public async Task FeedAsync_AsyncSourceYieldsAfterCompleteAsyncReturned_ThrowsInsteadOfSilentlyCancellingTheItem(CancellationToken ct)
    {
        var firstConsumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Id", (int x) => x).Build();

        pipeline.Start();
        Task feeding = pipeline.FeedAsync(GatedSource(firstConsumed, gate), ct);
        await firstConsumed.Task.WaitAsync(ct);
        await Guard(pipeline.CompleteAsync(), "CompleteAsync", ct);

        gate.SetResult();
        Exception? feedError = await CaptureAsync(feeding, ct);

        // CompleteAsync already returned, so item 1 can no longer be processed; the caller must hear about it.
        Assert.That(
            feedError,
            Is.InstanceOf<InvalidOperationException>(),
            $"FeedAsync completed without error although item 1 was fed after CompleteAsync returned; results: [{Describe(pipeline.Results)}]");
    }

    [Test, CancelAfter(10_000)]
    public async Task FeedAsync_AsyncSourceYieldsAfterCompleteAsyncAndRestart_ItemIsNotLost(CancellationToken ct)
    {
        var firstConsumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Id", (int x) => x).Build();

        pipeline.Start();
        Task feeding = pipeline.FeedAsync(GatedSource(firstConsumed, gate), ct);
        await firstConsumed.Task.WaitAsync(ct);
        await Guard(pipeline.CompleteAsync(), "CompleteAsync", ct);
        IReadOnlyList<PipelineResult<int>> firstRun = pipeline.Results;

        pipeline.Start(); // a new run
        gate.SetResult();
        Exception? feedError = await CaptureAsync(feeding, ct);
        await Guard(pipeline.CompleteAsync(), "CompleteAsync (second run)", ct);
        IReadOnlyList<PipelineResult<int>> secondRun = pipeline.Results;

        // Item 1 belongs to the completed run, so it is refused loudly rather than slipping into either run.
        Assert.Multiple(() =>
        {
            Assert.That(feedError, Is.InstanceOf<InvalidOperationException>(), $"first: [{Describe(firstRun)}], second: [{Describe(secondRun)}]");
            Assert.That(firstRun.Select(r => r.Value), Is.EqualTo(new[] { 0 }));
            Assert.That(secondRun, Is.Empty);
        });
    }


    [Test, CancelAfter(10_000)]
    public async Task StreamAsync_ShutdownThenRestartedBeforeStreamEnds_StreamEndDoesNotResetTheNewRun(CancellationToken ct)
    {
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Id", (int x) => x).Build();

        IAsyncEnumerator<PipelineResult<int>> stream = pipeline.StreamAsync(Enumerable.Range(0, 3), ct).GetAsyncEnumerator(ct);
        Assert.That(await stream.MoveNextAsync(), Is.True);
        await Guard(pipeline.ShutdownAsync(), "ShutdownAsync", ct);

        pipeline.Start();
        while (await stream.MoveNextAsync())
        {
        }

        await stream.DisposeAsync();

        Assert.That(async () => await pipeline.FeedAsync([42], cancellationToken: ct), Throws.Nothing, "the run started with Start() was reset by the old stream");
        await Guard(pipeline.CompleteAsync(), "CompleteAsync", ct);
        Assert.That(pipeline.Results.Select(r => r.Value), Is.EqualTo(new[] { 42 }));
    }

    [Test, CancelAfter(10_000)]
    public async Task FeedAsync_TokenAlreadyCancelled_ThrowsWithoutFeedingAnything(CancellationToken ct)
    {
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Id", (int x) => x).Build();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        pipeline.Start();
        Assert.That(async () => await pipeline.FeedAsync([1, 2, 3], cancellationToken: cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        await pipeline.FeedAsync([4], cancellationToken: ct);
        await Guard(pipeline.CompleteAsync(), "CompleteAsync", ct);

        // A cancelled call feeds nothing; otherwise re-feeding item 1 later gives it two results.
        Assert.That(pipeline.Results, Has.Count.EqualTo(1), $"results: [{Describe(pipeline.Results)}]");
        Assert.That(pipeline.Results[0].Value, Is.EqualTo(4));
    }

    [Test, CancelAfter(10_000)]
    public async Task AsBlock_FaultedWhilePumpWaitsForQueueRoom_CompletesPromptly(CancellationToken ct)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Hang", s => s.Task("hang", async (int x, CancellationToken token) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, token);
                return x;
            }).Workers(1).QueueCapacity(1))
            .Build();

        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        for (int i = 0; i < 4; i++)
        {
            // SendAsync(3) completes only once the pump has taken item 2, which then waits for room in the stage queue.
            Assert.That(await block.SendAsync(i, ct), Is.True);
        }

        await started.Task.WaitAsync(ct);
        block.Fault(new InvalidOperationException("upstream broke"));

        Task finished = await Task.WhenAny(block.Completion, Task.Delay(Timeout.Infinite, ct));
        Assert.That(finished, Is.SameAs(block.Completion), "the block never completed after Fault()");
        Assert.That(block.Completion.IsFaulted, Is.True);
        await pipeline.DisposeAsync();
    }


    [Test, CancelAfter(10_000)]
    public async Task RunAsync_CheckpointLookupThrows_ItemFailsOnceAndOthersContinue(CancellationToken ct)
    {
        var store = new Mock<ICheckpointStore>();
        store.Setup(s => s.IsCompletedAsync(It.IsAny<object>(), It.IsAny<CancellationToken>()))
            .Returns((object id, CancellationToken _) => Convert.ToInt64(id, System.Globalization.CultureInfo.InvariantCulture) == 1
                ? ValueTask.FromException<bool>(new IOException("store down"))
                : new ValueTask<bool>(false));
        store.Setup(s => s.MarkCompletedAsync(It.IsAny<object>(), It.IsAny<CancellationToken>())).Returns(ValueTask.CompletedTask);
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("A", (int x) => x + 1)
            .Stage("B", (int x) => x * 10)
            .WithCheckpoint(store.Object)
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await Guard(pipeline.RunAsync([0, 1, 2], ct), "RunAsync", ct);

        Assert.That(results.Select(r => r.IsSuccess), Is.EqualTo(new[] { true, false, true }));
        Assert.That(results[1].Error, Is.InstanceOf<IOException>());
        Assert.That(results[1].FailedStage, Is.EqualTo("A"));
        store.Verify(s => s.MarkCompletedAsync(It.IsAny<object>(), It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Test, CancelAfter(10_000)]
    public async Task RunAsync_IdSelectorThrowsForOneItem_ThatItemFailsAtItsPosition(CancellationToken ct)
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("A", (int x) => x * 2)
            .WithIdSelector(x => x == 1 ? throw new FormatException("bad id") : $"id{x}")
            .Build();

        IReadOnlyList<PipelineResult<int>> results = await Guard(pipeline.RunAsync([0, 1, 2], ct), "RunAsync", ct);

        Assert.That(results, Has.Count.EqualTo(3));
        Assert.That(results.Select(r => r.IsSuccess), Is.EqualTo(new[] { true, false, true }));
        Assert.That(results[1].Error, Is.InstanceOf<FormatException>());
        Assert.That(results[1].SequenceId, Is.EqualTo(1));
        Assert.That(results[2].Id, Is.EqualTo("id2"));
    }

    [Test, CancelAfter(10_000)]
    public async Task FeedAsync_InputThrowsMidway_ItemsBeforeComeOutAndPipelineStaysUsable(CancellationToken ct)
    {
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Id", (int x) => x).Build();

        pipeline.Start();
        Assert.That(async () => await pipeline.FeedAsync(ThrowingAfter(2), cancellationToken: ct), Throws.InstanceOf<IOException>());
        await pipeline.FeedAsync([7], cancellationToken: ct);
        await Guard(pipeline.CompleteAsync(), "CompleteAsync", ct);

        Assert.That(pipeline.Results.Select(r => r.Value), Is.EqualTo(new[] { 0, 1, 7 }));
        Assert.That(pipeline.Results.All(r => r.IsSuccess), Is.True);
    }

    [Test, CancelAfter(10_000)]
    public async Task StreamAsync_BreakWhileItemWaitsForStageRetry_EndsAndReportsNoRetryAfterwards(CancellationToken ct)
    {
        var time = new FakeTimeProvider();
        int calls0 = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Flaky", s => s.Task("flaky", (int x) => x == 0 && Interlocked.Increment(ref calls0) > 0 ? throw new IOException() : x)
                .Workers(1)
                .Retry(RetryMode.PerStage, attempts: 3, delay: TimeSpan.FromSeconds(10)))
            .WithTimeProvider(time)
            .Build();

        // One worker: item 0 fails first and goes to its backoff before item 1 runs and is yielded.
        var seen = new List<int>();
        Task consuming = ConsumeUntilFirstAsync();
        await Guard(consuming, "StreamAsync loop", ct);
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(seen, Is.EqualTo(new[] { 1 }));
        Assert.That(Volatile.Read(ref calls0), Is.EqualTo(1), "item 0 was retried after the stream was abandoned");
        IReadOnlyList<PipelineResult<int>> rerun = await Guard(pipeline.RunAsync([5], ct), "RunAsync after the stream", ct);
        Assert.That(rerun.Single().Value, Is.EqualTo(5));

        async Task ConsumeUntilFirstAsync()
        {
            await foreach (PipelineResult<int> r in pipeline.StreamAsync([0, 1], ct))
            {
                seen.Add(r.Value);
                break;
            }
        }
    }

    [Test, CancelAfter(10_000)]
    public async Task ShutdownAsync_ItemWaitingForStageRetry_ComesOutOnceAsCancelled(CancellationToken ct)
    {
        var time = new FakeTimeProvider();
        int calls = 0;
        Pipeline<int, int> pipeline = Pipeline.Create<int>()
            .Stage("Flaky", s => s.Task("flaky", (int x) => Interlocked.Increment(ref calls) > 0 ? throw new IOException("flaky") : x)
                .Retry(RetryMode.PerStage, attempts: 3, delay: TimeSpan.FromSeconds(10)))
            .Stage("Next", (int x) => x)
            .WithTimeProvider(time)
            .Build();

        pipeline.Start();
        await pipeline.FeedAsync([1, 2], cancellationToken: ct);
        while (!(Volatile.Read(ref calls) == 2 && pipeline.GetStats().StageStats["Flaky"] is { InProgressItems: 0, PendingItems: 2 }))
        {
            await Task.Yield(); // both items wait for their backoff on the fake clock
        }

        await Guard(pipeline.ShutdownAsync(), "ShutdownAsync", ct);
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(pipeline.Results, Has.Count.EqualTo(2));
        Assert.That(pipeline.Results.All(r => r.Status == ItemStatus.Cancelled && r.Error is OperationCanceledException), Is.True);
        Assert.That(calls, Is.EqualTo(2), "no retry ran after the stop");
    }

    [Test, CancelAfter(10_000)]
    public async Task AsBlock_CalledTwiceOrWhileStarted_ThrowsInvalidOperation(CancellationToken ct)
    {
        await using Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Id", (int x) => x).Build();

        IPropagatorBlock<int, PipelineResult<int>> block = pipeline.AsBlock();
        Assert.Throws<InvalidOperationException>(() => pipeline.AsBlock());
        Assert.Throws<InvalidOperationException>(() => pipeline.Start());
        Assert.That(async () => await pipeline.FeedAsync([1], cancellationToken: ct), Throws.InstanceOf<InvalidOperationException>());
        Assert.That(async () => await pipeline.CompleteAsync(), Throws.InstanceOf<InvalidOperationException>());

        block.Complete();
        await Guard(block.Completion, "block completion", ct);
    }

    private static async Task Guard(Task task, string what, CancellationToken ct)
    {
        Task winner = await Task.WhenAny(task, Task.Delay(Timeout.Infinite, ct));
        if (winner != task)
        {
            Assert.Fail($"{what} hung");
        }

        await task;
    }

    private static async Task<T> Guard<T>(Task<T> task, string what, CancellationToken ct)
    {
        await Guard((Task)task, what, ct);
        return await task;
    }

    private static async Task<Exception?> CaptureAsync(Task task, CancellationToken ct)
    {
        try
        {
            await Guard(task, "FeedAsync", ct);
            return null;
        }
        catch (Exception error) when (error is not AssertionException)
        {
            return error;
        }
    }

    private static string Describe(IEnumerable<PipelineResult<int>> results) =>
        string.Join(", ", results.Select(r => $"#{r.SequenceId}:{r.Status}:{(r.IsSuccess ? r.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : r.Error?.Message)}"));

    private static async IAsyncEnumerable<int> GatedSource(TaskCompletionSource firstConsumed, TaskCompletionSource gate, [EnumeratorCancellation] CancellationToken ct = default)
    {
        yield return 0;

        // Runs once FeedAsync has fed item 0 and asks for the next one.
        firstConsumed.TrySetResult();
        await gate.Task.WaitAsync(ct);
        yield return 1;
    }

    private static IEnumerable<int> ThrowingAfter(int count)
    {
        for (int i = 0; i < count; i++)
        {
            yield return i;
        }

        throw new IOException("input broke");
    }

    private sealed class StuckMarkStore : ICheckpointStore
    {
        public TaskCompletionSource MarkStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ValueTask<bool> IsCompletedAsync(object itemId, CancellationToken cancellationToken = default) => new(false);

        public async ValueTask MarkCompletedAsync(object itemId, CancellationToken cancellationToken = default)
        {
            MarkStarted.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}
