namespace AntFlow.Dataflow;

/// <summary>
/// The outcome of one input item: its final value, or the failure that stopped it. A pipeline produces exactly one
/// result per item fed in.
/// </summary>
/// <typeparam name="T">The pipeline's output type.</typeparam>
public sealed class PipelineResult<T>
{
    private PipelineResult(object id, long sequenceId, ItemStatus status, T? value, Exception? error, string? failedStage, int attempts)
    {
        Id = id;
        SequenceId = sequenceId;
        Status = status;
        Value = value;
        Error = error;
        FailedStage = failedStage;
        Attempts = attempts;
    }

    /// <summary>Gets the item's id: what the id selector returned, else the input sequence number as a <see cref="long"/>.</summary>
    public object Id { get; }

    /// <summary>Gets the item's position in the input, from 0 (items injected mid-pipeline continue the same sequence).</summary>
    public long SequenceId { get; }

    /// <summary>Gets how the item ended: <see cref="ItemStatus.Completed"/>, <see cref="ItemStatus.Skipped"/>, <see cref="ItemStatus.Failed"/> or <see cref="ItemStatus.Cancelled"/>.</summary>
    public ItemStatus Status { get; }

    /// <summary>Gets whether the item came out of the last stage (completed or skipped).</summary>
    public bool IsSuccess => Status is ItemStatus.Completed or ItemStatus.Skipped;

    /// <summary>Gets the output value; <see langword="default"/> when <see cref="IsSuccess"/> is false.</summary>
    public T? Value { get; }

    /// <summary>Gets the original exception (not a wrapper) when the item failed; an <see cref="OperationCanceledException"/> when it was cancelled.</summary>
    public Exception? Error { get; }

    /// <summary>Gets the stage the item failed or was cancelled in; <see langword="null"/> on success.</summary>
    public string? FailedStage { get; }

    /// <summary>Gets the highest attempt number reached in any stage (1 when nothing was retried).</summary>
    public int Attempts { get; }

    /// <inheritdoc />
    public override string ToString() => IsSuccess
        ? $"#{SequenceId} ({Id}): {Status} {Value}"
        : $"#{SequenceId} ({Id}): {Status} in '{FailedStage}' after {Attempts} attempt(s): {Error?.GetType().Name}: {Error?.Message}";

    internal static PipelineResult<T> Success(object id, long sequenceId, T value, int attempts, bool skipped) =>
        new(id, sequenceId, skipped ? ItemStatus.Skipped : ItemStatus.Completed, value, null, null, attempts);

    internal static PipelineResult<T> Failure(object id, long sequenceId, ItemStatus status, Exception error, string stage, int attempts) =>
        new(id, sequenceId, status, default, error, stage, attempts);
}
