using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace FakeBatchService;

/// <summary>The HTTP surface: upload, status, results and stats.</summary>
internal static class BatchEndpoints
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/batches", UploadAsync);
        app.MapGet("/batches/{id}", StatusAsync);
        app.MapGet("/batches/{id}/results", ResultsAsync);
        app.MapGet("/stats", (BatchServiceState state) => Results.Ok(state.GetStats()));
    }

    private static async Task<IResult> UploadAsync(HttpContext http, BatchServiceState state, IHostApplicationLifetime lifetime)
    {
        string? key = http.Request.Headers[IdempotencyKeyHeader].FirstOrDefault();
        key = string.IsNullOrWhiteSpace(key) ? null : key;
        state.CountRequest(Endpoint.Upload, key);
        CallDecision decision = state.Decide(Endpoint.Upload, key ?? "(no key)");
        if (Reject(http, decision) is { } rejected)
        {
            return rejected;
        }

        CreateBatchBody? body;
        try
        {
            body = await http.Request.ReadFromJsonAsync<CreateBatchBody>(http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException error)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The body is not a valid batch.", detail: error.Message);
        }

        if (body?.Requests is not { Count: > 0 } requests || requests.Any(r => r is null || string.IsNullOrEmpty(r.CustomId) || r.Body is null))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "A batch needs at least one request, each with a custom_id and a body.");
        }

        FakeBatch batch = state.Create(key, requests);
        if (decision.Outcome == CallOutcome.Hang)
        {
            // The batch exists, but the client never hears of it: only its idempotency key can find it again.
            return await HangAsync(http, lifetime).ConfigureAwait(false);
        }

        await DelayAsync(state, decision.Delay, http.RequestAborted).ConfigureAwait(false);
        return Results.Ok(batch.View(state.Time, state.Options.ValidatingFraction));
    }

    private static async Task<IResult> StatusAsync(string id, HttpContext http, BatchServiceState state, IHostApplicationLifetime lifetime)
    {
        state.CountRequest(Endpoint.Status, idempotencyKey: null);
        CallDecision decision = state.Decide(Endpoint.Status, id);
        if (Reject(http, decision) is { } rejected)
        {
            return rejected;
        }

        if (decision.Outcome == CallOutcome.Hang)
        {
            return await HangAsync(http, lifetime).ConfigureAwait(false);
        }

        await DelayAsync(state, decision.Delay, http.RequestAborted).ConfigureAwait(false);
        return state.Find(id) is { } batch
            ? Results.Ok(batch.View(state.Time, state.Options.ValidatingFraction))
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"No batch '{id}'.");
    }

    private static async Task<IResult> ResultsAsync(string id, HttpContext http, BatchServiceState state, IHostApplicationLifetime lifetime, IOptions<JsonOptions> json)
    {
        state.CountRequest(Endpoint.Results, idempotencyKey: null);
        CallDecision decision = state.Decide(Endpoint.Results, id);
        if (Reject(http, decision) is { } rejected)
        {
            return rejected;
        }

        if (decision.Outcome == CallOutcome.Hang)
        {
            return await HangAsync(http, lifetime).ConfigureAwait(false);
        }

        await DelayAsync(state, decision.Delay, http.RequestAborted).ConfigureAwait(false);
        if (state.Find(id) is not { } batch)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"No batch '{id}'.");
        }

        if (!batch.IsCompleted(state.Time))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: $"Batch '{id}' is not completed yet.");
        }

        // JSON Lines, one answer per request, in request order.
        var lines = new StringBuilder();
        foreach (RequestLine request in batch.Requests)
        {
            lines.Append(JsonSerializer.Serialize(new ResultLine(request.CustomId, FakeBatchModel.Respond(request.Body)), json.Value.SerializerOptions)).Append('\n');
        }

        return Results.Text(lines.ToString(), "application/x-ndjson", Encoding.UTF8);
    }

    private static IResult? Reject(HttpContext http, CallDecision decision)
    {
        switch (decision.Outcome)
        {
            case CallOutcome.Throttle:
                // Retry-After only has whole seconds; retry-after-ms (as some LLM APIs send) carries the precise wait.
                TimeSpan wait = decision.Delay;
                http.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                http.Response.Headers["retry-after-ms"] = ((long)Math.Ceiling(wait.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
                return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Rate limit exceeded.");
            case CallOutcome.ServerError:
                return Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "The server had an error while processing the request.");
            default:
                return null;
        }
    }

    private static async Task<IResult> HangAsync(HttpContext http, IHostApplicationLifetime lifetime)
    {
        using var hang = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, hang.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client gave up, or the server is stopping: either way nobody reads the answer.
        }

        return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
    }

    private static Task DelayAsync(BatchServiceState state, TimeSpan delay, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, state.Time, cancellationToken) : Task.CompletedTask;
}
