namespace FakeBatchService;

/// <summary>A batch the service holds. Its state is a function of time: nothing runs in the background.</summary>
internal sealed class FakeBatch(string id, string? key, IReadOnlyList<RequestLine> requests, long createdAt, DateTimeOffset createdAtTime, TimeSpan processingTime)
{
    public string Id { get; } = id;

    public string? IdempotencyKey { get; } = key;

    public IReadOnlyList<RequestLine> Requests { get; } = requests;

    public long CreatedAt { get; } = createdAt;

    public DateTimeOffset CreatedAtTime { get; } = createdAtTime;

    public TimeSpan ProcessingTime { get; } = processingTime;

    public bool IsCompleted(TimeProvider time) => time.GetElapsedTime(CreatedAt) >= ProcessingTime;

    public BatchView View(TimeProvider time, double validatingFraction)
    {
        TimeSpan elapsed = time.GetElapsedTime(CreatedAt);
        int total = Requests.Count;
        if (elapsed >= ProcessingTime)
        {
            return new BatchView(Id, "completed", CreatedAtTime, CreatedAtTime + ProcessingTime, new RequestCounts(total, total, 0));
        }

        TimeSpan validating = ProcessingTime * validatingFraction;
        if (elapsed < validating)
        {
            return new BatchView(Id, "validating", CreatedAtTime, null, new RequestCounts(total, 0, 0));
        }

        double progress = (elapsed - validating) / (ProcessingTime - validating);
        return new BatchView(Id, "in_progress", CreatedAtTime, null, new RequestCounts(total, (int)(total * progress), 0));
    }
}
