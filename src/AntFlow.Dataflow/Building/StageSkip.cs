namespace AntFlow.Dataflow.Building;

/// <summary>A stage's skip rule: tested on the stage input; a skipped item passes on <see cref="WhenSkipped"/>'s value.</summary>
internal sealed class StageSkip<TIn, TOut>(Func<TIn, ValueTask<bool>> predicate, Func<TIn, TOut> whenSkipped)
{
    public Func<TIn, ValueTask<bool>> Predicate { get; } = predicate;

    public Func<TIn, TOut> WhenSkipped { get; } = whenSkipped;
}
