using System.Net;
using BatchApi;

namespace AntFlow.Dataflow.Tests.BatchApi;

[TestFixture]
public sealed class BatchApiClientTests
{
    private static readonly Uri Service = new("http://batch.test/");

    [Test, CancelAfter(10_000)]
    public async Task CreateBatchAsync_429WithRetryAfterMs_WaitsAtLeastThatLongBeforeRetrying(CancellationToken ct)
    {
        var time = new TimerWatchingTimeProvider();
        var handler = new ScriptedHandler(
            ScriptedHandler.Answer(HttpStatusCode.TooManyRequests, configure: r => r.Headers.Add("retry-after-ms", "3000")),
            ScriptedHandler.Answer(HttpStatusCode.OK, ScriptedHandler.BatchJson("batch_000001")));
        using var client = new BatchApiClient(Service, handler, new BatchApiClientOptions { TimeProvider = time, RetryDelay = TimeSpan.Zero });

        Task<BatchInfo> call = client.CreateBatchAsync(Payload(), ct);
        await handler.Received.ReadAsync(ct);
        await time.WaitForTimerAsync(due => due >= TimeSpan.FromSeconds(3) && due < TimeSpan.FromSeconds(4), ct);
        time.Advance(TimeSpan.FromMilliseconds(2999));
        Assert.That(handler.Calls, Is.EqualTo(1), "retried before Retry-After");

        time.Advance(TimeSpan.FromMilliseconds(601)); // the wait has up to 20 % jitter on top
        await handler.Received.ReadAsync(ct);
        BatchInfo info = await call;

        Assert.That(info.Id, Is.EqualTo("batch_000001"));
        BatchApiClientStats stats = client.GetStats();
        Assert.That((stats.Attempts, stats.ThrottledResponses, stats.RetriesAfterThrottle), Is.EqualTo((2L, 1L, 1L)));
        Assert.That(stats.RetryAfterWaited, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(3)));
    }

    [Test, CancelAfter(10_000)]
    public async Task GetBatchAsync_RetryAfterInSeconds_HonoursIt(CancellationToken ct)
    {
        var time = new TimerWatchingTimeProvider();
        var handler = new ScriptedHandler(
            ScriptedHandler.Answer(HttpStatusCode.ServiceUnavailable, configure: r => r.Headers.RetryAfter = new(TimeSpan.FromSeconds(2))),
            ScriptedHandler.Answer(HttpStatusCode.OK, ScriptedHandler.BatchJson("b1", "in_progress")));
        using var client = new BatchApiClient(Service, handler, new BatchApiClientOptions { TimeProvider = time, RetryDelay = TimeSpan.Zero });

        Task<BatchInfo> call = client.GetBatchAsync("b1", ct);
        await handler.Received.ReadAsync(ct);
        await time.WaitForTimerAsync(due => due >= TimeSpan.FromSeconds(2) && due < TimeSpan.FromSeconds(3), ct);
        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.That(handler.Calls, Is.EqualTo(1));
        time.Advance(TimeSpan.FromMilliseconds(401));

        Assert.That((await call).Status, Is.EqualTo("in_progress"));
        Assert.That(client.GetStats().RetriesAfterServerError, Is.EqualTo(1));
    }

    [Test, CancelAfter(10_000)]
    public async Task GetBatchAsync_AttemptHangs_TimesOutAndRetries(CancellationToken ct)
    {
        var time = new TimerWatchingTimeProvider();
        var handler = new ScriptedHandler(
            ScriptedHandler.Hang(),
            ScriptedHandler.Answer(HttpStatusCode.OK, ScriptedHandler.BatchJson("b1", "completed")));
        using var client = new BatchApiClient(Service, handler, new BatchApiClientOptions
        {
            TimeProvider = time,
            AttemptTimeout = TimeSpan.FromSeconds(5),
            RetryDelay = TimeSpan.Zero,
        });

        Task<BatchInfo> call = client.GetBatchAsync("b1", ct);
        // The attempt's timeout is armed before the request is sent, so receiving the request is the gate.
        await handler.Received.ReadAsync(ct);
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.That((await call).IsCompleted, Is.True);
        BatchApiClientStats stats = client.GetStats();
        Assert.That((stats.Timeouts, stats.RetriesAfterTimeoutOrConnectionError), Is.EqualTo((1L, 1L)));
    }

    [Test, CancelAfter(10_000)]
    public async Task GetBatchAsync_RetriesOff_ThrowsBatchApiExceptionWithStatusAndRetryAfter(CancellationToken ct)
    {
        var handler = new ScriptedHandler(ScriptedHandler.Answer(
            HttpStatusCode.TooManyRequests,
            """{"title":"Rate limit exceeded."}""",
            r => r.Headers.Add("retry-after-ms", "250")));
        using var client = new BatchApiClient(Service, handler, new BatchApiClientOptions { MaxRetryAttempts = 0 });

        BatchApiException? error = Assert.ThrowsAsync<BatchApiException>(() => client.GetBatchAsync("b1", ct));

        Assert.That(error!.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(error.RetryAfter, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
        Assert.That(error.IsTransient, Is.True);
        Assert.That(error.Message, Is.EqualTo("poll failed with HTTP 429: Rate limit exceeded."));
        Assert.That(client.GetStats().ThrottledResponses, Is.EqualTo(1));
    }

    [Test, CancelAfter(10_000)]
    public async Task GetBatchAsync_NotFound_IsNotRetried(CancellationToken ct)
    {
        var handler = new ScriptedHandler(ScriptedHandler.Answer(HttpStatusCode.NotFound));
        using var client = new BatchApiClient(Service, handler);

        BatchApiException? error = Assert.ThrowsAsync<BatchApiException>(() => client.GetBatchAsync("missing", ct));

        Assert.That(error!.IsTransient, Is.False);
        Assert.That(handler.Calls, Is.EqualTo(1));
        await Task.CompletedTask;
    }

    [Test, CancelAfter(10_000)]
    public async Task CreateBatchAsync_SendsPrefixedBatchIdAsIdempotencyKey(CancellationToken ct)
    {
        var handler = new ScriptedHandler(ScriptedHandler.Answer(HttpStatusCode.OK, ScriptedHandler.BatchJson("b1")));
        using var client = new BatchApiClient(Service, handler, new BatchApiClientOptions { IdempotencyKeyPrefix = "run2/" });

        await client.CreateBatchAsync(Payload(), ct);
        HttpRequestMessage request = await handler.Received.ReadAsync(ct);

        Assert.That(request.Headers.GetValues("Idempotency-Key"), Is.EqualTo(new[] { "run2/batch-0000" }));
        Assert.That(request.RequestUri, Is.EqualTo(new Uri("http://batch.test/batches")));
    }

    [Test, CancelAfter(10_000)]
    public async Task GetResultsAsync_JsonLines_ReturnsOneOutputPerLine(CancellationToken ct)
    {
        var handler = new ScriptedHandler(ScriptedHandler.Answer(HttpStatusCode.OK, "{\"custom_id\":\"a\",\"output\":\"A\"}\n{\"custom_id\":\"b\",\"output\":\"B\"}\n"));
        using var client = new BatchApiClient(Service, handler);

        IReadOnlyList<BatchOutput> outputs = await client.GetResultsAsync("b1", ct);

        Assert.That(outputs, Is.EqualTo(new[] { new BatchOutput("a", "A"), new BatchOutput("b", "B") }));
    }

    [Test]
    public void Constructor_InvalidOptions_ReportsEveryProblem()
    {
        var options = new BatchApiClientOptions { AttemptTimeout = TimeSpan.Zero, MaxRetryAttempts = -1 };

        var error = Assert.Throws<ArgumentException>(() => new BatchApiClient(Service, options));

        Assert.That(error!.Message, Is.EqualTo(
            "The batch API client options are invalid: AttemptTimeout must be positive (was 00:00:00). MaxRetryAttempts must not be negative (was -1)."));
    }

    private static BatchPayload Payload() => BatchPayload.Create(BatchJob.CreateSamples(1, requestsPerBatch: 2)[0]);
}
