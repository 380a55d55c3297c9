namespace AntFlow.Dataflow.Tests.Pipelines;

[TestFixture]
public sealed class PipelineBuilderTests
{
    [Test]
    public void Build_NoStages_ThrowsPipelineException()
    {
        var ex = Assert.Throws<PipelineException>(() => Pipeline.Create<int>().Build());

        Assert.That(ex!.Message, Is.EqualTo("A pipeline needs at least one stage; add one with Stage(...)."));
    }

    [Test]
    public void Build_ZeroWorkers_NamesStageAndValue()
    {
        var ex = Assert.Throws<StageValidationException>(() => Pipeline.Create<int>().Stage("Fetch", (int x) => x, workers: 0).Build());

        Assert.That(ex!.Message, Is.EqualTo("Stage 'Fetch': workers must be at least 1 (was 0)."));
        Assert.That(ex.StageName, Is.EqualTo("Fetch"));
    }

    [TestCase(RetryMode.PerTask)]
    [TestCase(RetryMode.PerStage)]
    public void Build_MoreAttemptsThanSupported_NamesStageAndValue(RetryMode mode)
    {
        var ex = Assert.Throws<StageValidationException>(() =>
            Pipeline.Create<int>().Stage("Flaky", s => s.Task("t", (int x) => x).Retry(mode, attempts: 10_001)).Build());

        Assert.That(ex!.Message, Is.EqualTo("Stage 'Flaky': retry attempts must be at most 10000 (was 10001)."));
    }

    [Test]
    public void Build_MostAttemptsSupported_Builds()
    {
        Assert.DoesNotThrow(() => Pipeline.Create<int>().Stage("Flaky", s => s.Task("t", (int x) => x).Retry(RetryMode.PerStage, attempts: 10_000)).Build());
    }

    [Test]
    public void Build_DuplicateStageNames_Throws()
    {
        var ex = Assert.Throws<StageValidationException>(() =>
            Pipeline.Create<int>().Stage("A", (int x) => x).Stage("A", (int x) => x).Build());

        Assert.That(ex!.Message, Is.EqualTo("Stage 'A': the name is used by more than one stage."));
    }

    [Test]
    public void Build_SeveralProblems_ReportsAllTogether()
    {
        var ex = Assert.Throws<StageValidationException>(() => Pipeline.Create<int>()
            .Stage<int>("Empty", s => s.Workers(2))
            .Stage("Bad", s => s.Task("t", (int x) => x).Workers(-1).QueueCapacity(0).Retry(RetryMode.PerTask, attempts: 0))
            .Build());

        Assert.That(ex!.Message, Does.StartWith("The pipeline configuration is invalid:"));
        Assert.That(ex.Message, Does.Contain("Stage 'Empty': has no tasks; add at least one with Task(...)."));
        Assert.That(ex.Message, Does.Contain("Stage 'Bad': workers must be at least 1 (was -1)."));
        Assert.That(ex.Message, Does.Contain("Stage 'Bad': queue capacity must be at least 1 (was 0)."));
        Assert.That(ex.Message, Does.Contain("Stage 'Bad': retry attempts must be at least 1 (was 0)."));
        Assert.That(ex.StageName, Is.EqualTo("Empty"));
    }

    [Test]
    public void Build_NullDelegate_NamesStageAndTask()
    {
        Func<int, int>? missing = null;

        var ex = Assert.Throws<StageValidationException>(() => Pipeline.Create<int>().Stage("Calc", missing!).Build());

        Assert.That(ex!.Message, Is.EqualTo("Stage 'Calc': task 'Calc' has a null delegate."));
    }

    [Test]
    public void Build_SkipIfWithIncompatibleTypes_Throws()
    {
        var ex = Assert.Throws<StageValidationException>(() => Pipeline.Create<int>()
            .Stage("Format", s => s.Task("fmt", (int x) => x.ToString(System.Globalization.CultureInfo.InvariantCulture)).SkipIf(x => x < 0))
            .Build());

        Assert.That(ex!.Message, Does.Contain("Stage 'Format': SkipIf passes the input through unchanged"));
        Assert.That(ex.Message, Does.Contain("use SkipIf(predicate, whenSkipped)"));
    }

    [Test]
    public void Build_TaskAfterSkipIf_Throws()
    {
        var ex = Assert.Throws<StageValidationException>(() => Pipeline.Create<int>()
            .Stage("S", s => s.Task("a", (int x) => x).SkipIf(x => x < 0).Task("b", (int x) => x + 1))
            .Build());

        Assert.That(ex!.Message, Does.Contain("SkipIf must come after the last Task(...)"));
    }

    [Test]
    public void Build_CalledTwice_ThrowsInvalidOperation()
    {
        PipelineBuilder<int, int> builder = Pipeline.Create<int>().Stage("A", (int x) => x);
        builder.Build();

        Assert.Throws<InvalidOperationException>(() => builder.Build());
    }

    [Test]
    public void Build_ConcurrencyLimitBelowOne_Throws()
    {
        var ex = Assert.Throws<StageValidationException>(() => Pipeline.Create<int>()
            .Stage("S", s => s.Task("t", (int x) => x, concurrencyLimit: 0)).Build());

        Assert.That(ex!.Message, Is.EqualTo("Stage 'S': task 't' concurrencyLimit must be at least 1 (was 0)."));
    }

    [Test]
    public void GetWorkerNames_NamesWorkersByStageAndIndex()
    {
        Pipeline<int, int> pipeline = Pipeline.Create<int>().Stage("Fetch", (int x) => x, workers: 3).Stage("Save", (int x) => x, workers: 1).Build();

        IReadOnlyDictionary<string, IReadOnlyList<string>> names = pipeline.GetWorkerNames();

        Assert.That(names["Fetch"], Is.EqualTo(new[] { "Fetch-W0", "Fetch-W1", "Fetch-W2" }));
        Assert.That(names["Save"], Is.EqualTo(new[] { "Save-W0" }));
        Assert.That(pipeline.GetWorkerStates().Keys, Is.EquivalentTo(new[] { "Fetch-W0", "Fetch-W1", "Fetch-W2", "Save-W0" }));
    }
}
