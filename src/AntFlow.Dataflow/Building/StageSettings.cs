using Polly;

namespace AntFlow.Dataflow.Building;

/// <summary>The untyped part of a stage's configuration, shared by the builders of one stage.</summary>
internal sealed class StageSettings(string name)
{
    public string Name { get; } = name;

    public int Workers { get; set; } = StageDefaults.Workers;

    public int? QueueCapacity { get; set; }

    public RetryMode? RetryMode { get; set; }

    public int Attempts { get; set; } = 1;

    public TimeSpan RetryDelay { get; set; } = StageDefaults.RetryDelay;

    public Func<Exception, bool>? RetryOn { get; set; }

    public ResiliencePipeline? Resilience { get; set; }

    public TimeSpan? TaskTimeout { get; set; }

    /// <summary>The stage-wide rate limit (each item attempt takes a permit), if any.</summary>
    public (int Permits, TimeSpan Per)? RateLimit { get; set; }

    /// <summary>Rate limits of single tasks (each run of the task takes a permit), by task name.</summary>
    public Dictionary<string, (int Permits, TimeSpan Per)> TaskRateLimits { get; } = new(StringComparer.Ordinal);

    /// <summary>Problems found while building; reported together by <c>Build()</c>.</summary>
    public List<string> Errors { get; } = [];

    public int EffectiveQueueCapacity => QueueCapacity ?? Math.Max(1, Workers) * StageDefaults.QueueCapacityPerWorker;

    public void AddError(string problem) => Errors.Add($"Stage '{Name}': {problem}");
}
