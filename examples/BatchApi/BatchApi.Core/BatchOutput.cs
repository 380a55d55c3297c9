namespace BatchApi;

/// <summary>The service's answer to one request of a batch.</summary>
/// <param name="CustomId">The request's custom id.</param>
/// <param name="Output">The answer.</param>
public sealed record BatchOutput(string CustomId, string Output);
