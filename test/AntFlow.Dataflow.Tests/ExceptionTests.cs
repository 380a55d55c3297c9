namespace AntFlow.Dataflow.Tests;

[TestFixture]
public sealed class ExceptionTests
{
    [Test]
    public void StageValidationException_IsPipelineAndAntFlowException()
    {
        var ex = new StageValidationException("Fetch", "Stage 'Fetch': workers must be at least 1 (was 0).");

        Assert.That(ex, Is.InstanceOf<PipelineException>().And.InstanceOf<AntFlowException>());
        Assert.That(ex.StageName, Is.EqualTo("Fetch"));
    }

    [Test]
    public void TaskFailedException_KeepsTaskNameAndOriginalException()
    {
        var inner = new InvalidOperationException("boom");

        var ex = new TaskFailedException("parse", inner);

        Assert.That(ex.TaskName, Is.EqualTo("parse"));
        Assert.That(ex.InnerException, Is.SameAs(inner));
        Assert.That(ex.Message, Does.Contain("parse").And.Contain("boom"));
    }

    [Test]
    public void ExecutorShutdownException_IsAntFlowException()
    {
        Assert.That(new ExecutorShutdownException(), Is.InstanceOf<AntFlowException>());
    }
}
