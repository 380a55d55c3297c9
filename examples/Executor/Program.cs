// A tour of AsyncExecutor: submit, map with retries, as-completed and wait strategies.
// Runs in a few seconds; every job only waits (Task.Delay) to stand in for I/O.
using System.Diagnostics;
using AntFlow.Dataflow;

var clock = Stopwatch.StartNew();
void Say(string text) => Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:0.00}s] {text}");

await using var executor = new AsyncExecutor(new AsyncExecutorOptions
{
    MaxWorkers = 4,
    RetryDelay = TimeSpan.FromMilliseconds(50), // base delay of the exponential backoff used by MapAsync retries
});

// 1. Submit: the task comes back at once; at most 4 jobs run at the same time, in submission order.
Say("1. Submit eight 300 ms jobs on 4 workers: two waves, about 0.6 s");
Task<int>[] submitted = Enumerable.Range(1, 8)
    .Select(i => executor.Submit(async ct =>
    {
        await Task.Delay(300, ct);
        return i * i;
    }))
    .ToArray();
Say($"   squares: {string.Join(", ", await Task.WhenAll(submitted))}");

// 2. MapAsync with retries: a flaky job fails twice for every third input; retries: 2 allows three calls.
Say("2. MapAsync over 12 inputs with a flaky job and retries: 2");
var calls = new int[12];
IReadOnlyList<string> pages = await executor.MapAsync(
    Enumerable.Range(0, 12),
    async (int page, CancellationToken ct) =>
    {
        int call = Interlocked.Increment(ref calls[page]);
        await Task.Delay(Random.Shared.Next(20, 120), ct);
        if (page % 3 == 0 && call < 3)
        {
            throw new HttpRequestException($"page {page}: 503 on call {call}");
        }

        return $"page {page}";
    },
    retries: 2);
Say($"   results (input order): {string.Join(", ", pages)}");
Say($"   calls per input:       {string.Join(" ", calls)}");

// Without enough retries the first failure propagates as it is and the rest is cancelled.
try
{
    await executor.MapAsync(
        Enumerable.Range(0, 12),
        (int page, CancellationToken ct) => page == 5
            ? Task.FromException<int>(new InvalidOperationException("page 5 is broken"))
            : Task.Delay(200, ct).ContinueWith(_ => page, ct, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default),
        retries: 1);
}
catch (InvalidOperationException ex)
{
    Say($"   with retries: 1 the map failed with the original exception: \"{ex.Message}\"");
}

// 3. MapIterAsync: results stream in input order; the input is endless, the loop decides when to stop.
Say("3. MapIterAsync over an endless input; stop after 6 results");
static IEnumerable<int> Naturals()
{
    for (int i = 0; ; i++)
    {
        yield return i;
    }
}

await foreach (int cube in executor.MapIterAsync(Naturals(), async (int x, CancellationToken ct) =>
{
    await Task.Delay(30, ct);
    return x * x * x;
}))
{
    Say($"   cube {cube}");
    if (cube >= 125)
    {
        break; // cancels the calls still running and stops reading the input
    }
}

// 4. AsCompleted: tasks in the order they finish, not the order they were started.
Say("4. AsCompleted: delays 400, 100, 250, 50 ms come back shortest first");
int[] delays = [400, 100, 250, 50];
Task<int>[] racing = delays.Select(d => executor.Submit(async ct =>
{
    await Task.Delay(d, ct);
    return d;
})).ToArray();
await foreach (Task<int> done in AsyncExecutor.AsCompleted(racing, timeout: TimeSpan.FromSeconds(5)))
{
    Say($"   finished: {await done} ms");
}

// 5. WaitAsync: the three strategies, and a timeout that returns instead of throwing.
Say("5. WaitAsync strategies");
Task<int>[] Batch() =>
[
    executor.Submit(async ct => { await Task.Delay(100, ct); return 1; }),
    executor.Submit<int>(async ct => { await Task.Delay(200, ct); throw new TimeoutException("job 2 timed out"); }),
    executor.Submit(async ct => { await Task.Delay(600, ct); return 3; }),
];

foreach (WaitStrategy strategy in new[] { WaitStrategy.FirstCompleted, WaitStrategy.FirstException, WaitStrategy.AllCompleted })
{
    Task<int>[] batch = Batch();
    var started = clock.Elapsed;
    (IReadOnlySet<Task<int>> done, IReadOnlySet<Task<int>> pending) = await AsyncExecutor.WaitAsync(batch, strategy);
    Say($"   {strategy,-14}: done {done.Count}, pending {pending.Count} after {(clock.Elapsed - started).TotalMilliseconds:0} ms");
    await AsyncExecutor.WaitAsync(batch); // let the batch finish before the next strategy
}

Task<int>[] slow = [executor.Submit(async ct => { await Task.Delay(1_000, ct); return 0; })];
(IReadOnlySet<Task<int>> finished, IReadOnlySet<Task<int>> unfinished) =
    await AsyncExecutor.WaitAsync(slow, WaitStrategy.AllCompleted, timeout: TimeSpan.FromMilliseconds(150));
Say($"   timeout 150 ms: done {finished.Count}, pending {unfinished.Count} (no exception)");

// 6. Shutdown: cancelPending cancels what waits in the queue and signals running jobs through their token.
Say("6. ShutdownAsync(cancelPending: true) with 10 long jobs queued");
Task<int>[] backlog = Enumerable.Range(0, 10)
    .Select(i => executor.Submit(async ct =>
    {
        await Task.Delay(10_000, ct);
        return i;
    }))
    .ToArray();
await executor.ShutdownAsync(wait: true, cancelPending: true);
Say($"   canceled: {backlog.Count(t => t.IsCanceled)} of {backlog.Length}; the slow job too: {slow[0].IsCanceled}");
try
{
    _ = executor.Submit(ct => Task.FromResult(1));
}
catch (ExecutorShutdownException ex)
{
    Say($"   Submit after shutdown: {ex.GetType().Name}");
}
