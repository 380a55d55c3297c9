namespace FakeBatchService;

// The wire format, in snake_case JSON (see FakeBatchServer.CreateApplication).

/// <summary>The body of <c>POST /batches</c>.</summary>
internal sealed record CreateBatchBody(IReadOnlyList<RequestLine>? Requests);

/// <summary>One request of a batch.</summary>
internal sealed record RequestLine(string CustomId, string Body);

/// <summary>What <c>POST /batches</c> and <c>GET /batches/{id}</c> return.</summary>
internal sealed record BatchView(string Id, string Status, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, RequestCounts RequestCounts);

/// <summary>How far a batch got.</summary>
internal sealed record RequestCounts(int Total, int Completed, int Failed);

/// <summary>One line of <c>GET /batches/{id}/results</c> (JSON Lines).</summary>
internal sealed record ResultLine(string CustomId, string Output);
