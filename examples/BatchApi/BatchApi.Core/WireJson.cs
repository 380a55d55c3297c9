using System.Text.Json;

namespace BatchApi;

/// <summary>The service's wire format: snake_case JSON.</summary>
internal static class WireJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}

/// <summary>The body of <c>POST /batches</c>.</summary>
internal sealed record WireCreateBatch(IReadOnlyList<WireRequest> Requests);

/// <summary>One request line.</summary>
internal sealed record WireRequest(string CustomId, string Body);

/// <summary>A batch as the service describes it.</summary>
internal sealed record WireBatch(string Id, string Status, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, WireRequestCounts? RequestCounts);

/// <summary>Request counts of a batch.</summary>
internal sealed record WireRequestCounts(int Total, int Completed, int Failed);

/// <summary>One result line.</summary>
internal sealed record WireResult(string CustomId, string Output);

/// <summary>An RFC 7807 problem body.</summary>
internal sealed record WireProblem(string? Title, string? Detail);
