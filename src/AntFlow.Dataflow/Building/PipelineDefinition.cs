using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Building;

/// <summary>Everything <c>Build()</c> validated: the stages and the pipeline-wide settings.</summary>
internal sealed class PipelineDefinition<TIn>
{
    public required IReadOnlyList<StageDefinition> Stages { get; init; }

    public StatusTracker? Tracker { get; init; }

    public ILoggerFactory? LoggerFactory { get; init; }

    public required TimeProvider TimeProvider { get; init; }

    public Func<TIn, object>? IdSelector { get; init; }

    public bool CollectResults { get; init; } = true;

    public ICheckpointStore? CheckpointStore { get; init; }
}
