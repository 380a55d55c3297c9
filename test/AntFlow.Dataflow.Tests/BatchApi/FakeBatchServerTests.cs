using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FakeBatchService;
using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.BatchApi;

[TestFixture]
public sealed class FakeBatchServerTests
{
    private const string Body = """{"requests":[{"custom_id":"a","body":"hello world"},{"custom_id":"b","body":"bye"}]}""";

    [Test, CancelAfter(10_000)]
    public async Task StartAsync_Default_ListensOnAFreeLoopbackPort(CancellationToken ct)
    {
        await using FakeBatchServer server = await FakeBatchServer.StartAsync(Quiet(), ct);

        Assert.That(server.BaseAddress.Host, Is.EqualTo("127.0.0.1"));
        Assert.That(server.BaseAddress.Port, Is.Not.Zero);
    }

    [Test, CancelAfter(10_000)]
    public async Task Batches_FollowTheirProcessingTime_FromValidatingToCompletedWithResults(CancellationToken ct)
    {
        var time = new FakeTimeProvider();
        FakeBatchServiceOptions options = Quiet();
        options.TimeProvider = time;
        options.MinProcessingTime = options.MaxProcessingTime = TimeSpan.FromSeconds(10);
        await using FakeBatchServer server = await FakeBatchServer.StartAsync(options, ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        JsonElement created = await PostAsync(http, "k1", ct);
        string id = created.GetProperty("id").GetString()!;
        Assert.That(created.GetProperty("status").GetString(), Is.EqualTo("validating"));

        time.Advance(TimeSpan.FromSeconds(5));
        JsonElement halfway = await http.GetFromJsonAsync<JsonElement>($"batches/{id}", ct);
        Assert.That(halfway.GetProperty("status").GetString(), Is.EqualTo("in_progress"));
        using (HttpResponseMessage early = await http.GetAsync($"batches/{id}/results", ct))
        {
            Assert.That(early.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        }

        time.Advance(TimeSpan.FromSeconds(5));
        JsonElement done = await http.GetFromJsonAsync<JsonElement>($"batches/{id}", ct);
        Assert.That(done.GetProperty("status").GetString(), Is.EqualTo("completed"));
        Assert.That(done.GetProperty("request_counts").GetProperty("completed").GetInt32(), Is.EqualTo(2));
        string results = await http.GetStringAsync($"batches/{id}/results", ct);
        Assert.That(results, Is.EqualTo("""
            {"custom_id":"a","output":"HELLO WORLD [2 words]"}
            {"custom_id":"b","output":"BYE [1 words]"}

            """.ReplaceLineEndings("\n")));
    }

    [Test, CancelAfter(10_000)]
    public async Task Upload_SameIdempotencyKeyTwice_ReturnsTheSameBatch(CancellationToken ct)
    {
        await using FakeBatchServer server = await FakeBatchServer.StartAsync(Quiet(), ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        JsonElement first = await PostAsync(http, "same", ct);
        JsonElement second = await PostAsync(http, "same", ct);

        Assert.That(second.GetProperty("id").GetString(), Is.EqualTo(first.GetProperty("id").GetString()));
        FakeBatchServiceStats stats = server.GetStats();
        Assert.That((stats.BatchesCreated, stats.DuplicateUploads, stats.UploadRequestsByKey["same"]), Is.EqualTo((1L, 1L, 2)));
    }

    [Test, CancelAfter(10_000)]
    public async Task Upload_Throttled_Answers429WithRetryAfterAndCountsIt(CancellationToken ct)
    {
        FakeBatchServiceOptions options = Quiet();
        options.ThrottleRate = 1;
        options.ThrottleRetryAfter = TimeSpan.FromMilliseconds(1500);
        await using FakeBatchServer server = await FakeBatchServer.StartAsync(options, ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using HttpResponseMessage response = await http.PostAsync("batches", new StringContent(Body, System.Text.Encoding.UTF8, "application/json"), ct);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(2)), "whole seconds, rounded up");
        Assert.That(response.Headers.GetValues("retry-after-ms"), Is.EqualTo(new[] { "1500" }));
        Assert.That(server.GetStats().Throttled, Is.EqualTo(1));
    }

    [Test, CancelAfter(10_000)]
    public async Task Status_RateLimitExceeded_Answers429AndCountsIt(CancellationToken ct)
    {
        var time = new FakeTimeProvider();
        FakeBatchServiceOptions options = Quiet();
        options.TimeProvider = time;
        options.RequestsPerSecond = 10;
        options.Burst = 2;
        await using FakeBatchServer server = await FakeBatchServer.StartAsync(options, ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        HttpStatusCode[] codes = new HttpStatusCode[3];
        for (int i = 0; i < codes.Length; i++)
        {
            using HttpResponseMessage response = await http.GetAsync("batches/none", ct);
            codes[i] = response.StatusCode;
        }

        Assert.That(codes, Is.EqualTo(new[] { HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests }));
        FakeBatchServiceStats stats = server.GetStats();
        Assert.That((stats.Throttled, stats.RateLimited, stats.StatusRequests), Is.EqualTo((1L, 1L, 3L)));
    }

    [Test, CancelAfter(10_000)]
    public async Task Status_ServerErrors_Answers500AndCountsIt(CancellationToken ct)
    {
        FakeBatchServiceOptions options = Quiet();
        options.ServerErrorRate = 1;
        await using FakeBatchServer server = await FakeBatchServer.StartAsync(options, ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using HttpResponseMessage response = await http.GetAsync("batches/x", ct);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(server.GetStats().ServerErrors, Is.EqualTo(1));
    }

    [Test]
    public void StartAsync_InvalidOptions_ReportsEveryProblem()
    {
        var options = new FakeBatchServiceOptions { ServerErrorRate = 2, Burst = 0 };

        var error = Assert.ThrowsAsync<ArgumentException>(() => FakeBatchServer.StartAsync(options));

        Assert.That(error!.Message, Is.EqualTo(
            "The fake batch service options are invalid: ServerErrorRate must be between 0 and 1 (was 2). "
            + "ServerErrorRate + ThrottleRate + HangRate must not exceed 1. Burst must be at least 1 (was 0)."));
    }

    /// <summary>No faults, no rate limit, no latency: only what a test turns on.</summary>
    private static FakeBatchServiceOptions Quiet() => new()
    {
        ServerErrorRate = 0,
        ThrottleRate = 0,
        HangRate = 0,
        RequestsPerSecond = null,
        Latency = TimeSpan.Zero,
    };

    private static async Task<JsonElement> PostAsync(HttpClient http, string key, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "batches") { Content = new StringContent(Body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        using HttpResponseMessage response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>(ct);
    }
}
