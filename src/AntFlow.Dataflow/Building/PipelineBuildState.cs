using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Building;

/// <summary>What the typed builders of one pipeline share.</summary>
internal sealed class PipelineBuildState<TIn>
{
    private bool _built;

    public List<StageDefinition> Stages { get; } = [];

    public List<string> Errors { get; } = [];

    public StatusTracker? Tracker { get; set; }

    public ILoggerFactory? LoggerFactory { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public Func<TIn, object>? IdSelector { get; set; }

    public bool CollectResults { get; set; } = true;

    public ICheckpointStore? CheckpointStore { get; set; }

    public void EnsureNotBuilt()
    {
        if (_built)
        {
            throw new InvalidOperationException("This pipeline builder was already built; start a new one with Pipeline.Create<T>().");
        }
    }

    public PipelineDefinition<TIn> Build()
    {
        EnsureNotBuilt();
        _built = true;
        if (Stages.Count == 0)
        {
            throw new PipelineException("A pipeline needs at least one stage; add one with Stage(...).");
        }

        var problems = new List<string>(Errors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        string? firstBadStage = null;
        foreach (StageDefinition stage in Stages)
        {
            if (!string.IsNullOrWhiteSpace(stage.Name) && !names.Add(stage.Name))
            {
                problems.Add($"Stage '{stage.Name}': the name is used by more than one stage.");
                firstBadStage ??= stage.Name;
            }

            if (stage.Settings.Errors.Count > 0)
            {
                problems.AddRange(stage.Settings.Errors);
                firstBadStage ??= stage.Name;
            }
        }

        if (problems.Count > 0)
        {
            string message = problems.Count == 1
                ? problems[0]
                : "The pipeline configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => " - " + p));
            throw new StageValidationException(firstBadStage, message);
        }

        return new PipelineDefinition<TIn>
        {
            Stages = Stages.ToArray(),
            Tracker = Tracker,
            LoggerFactory = LoggerFactory,
            TimeProvider = TimeProvider,
            IdSelector = IdSelector,
            CollectResults = CollectResults,
            CheckpointStore = CheckpointStore,
        };
    }
}
