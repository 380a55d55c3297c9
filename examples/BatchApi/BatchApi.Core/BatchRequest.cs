namespace BatchApi;

/// <summary>One request of a batch: an id the caller chooses and the prompt.</summary>
/// <param name="CustomId">The caller's id for the request, unique within the batch; results are matched by it.</param>
/// <param name="Body">The prompt.</param>
public sealed record BatchRequest(string CustomId, string Body);
