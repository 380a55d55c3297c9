namespace BatchApi;

/// <summary>The outcome of a batch-by-batch run.</summary>
/// <param name="Saved">Batches saved.</param>
/// <param name="Failed">Batches that failed.</param>
/// <param name="Elapsed">The run's makespan.</param>
/// <param name="Errors">The failures, by batch id.</param>
public sealed record BatchByBatchReport(int Saved, int Failed, TimeSpan Elapsed, IReadOnlyDictionary<string, Exception> Errors);
