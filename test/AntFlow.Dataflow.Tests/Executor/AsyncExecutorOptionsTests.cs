using Polly;

namespace AntFlow.Dataflow.Tests.Executor;

[TestFixture]
public sealed class AsyncExecutorOptionsTests
{
    [Test]
    public void Defaults_AreDocumentedValues()
    {
        var options = new AsyncExecutorOptions();

        Assert.That(options.MaxWorkers, Is.EqualTo(Math.Min(32, Environment.ProcessorCount + 4)));
        Assert.That(options.TimeProvider, Is.SameAs(TimeProvider.System));
        Assert.That(options.LoggerFactory, Is.Null);
        Assert.That(options.RetryDelay, Is.EqualTo(TimeSpan.FromMilliseconds(200)));
        Assert.That(options.RetryBackoffType, Is.EqualTo(DelayBackoffType.Exponential));
        Assert.That(options.UseJitter, Is.True);
        Assert.That(options.MaxRetryDelay, Is.Null);
    }

    [TestCase(0)]
    [TestCase(-3)]
    public void MaxWorkers_BelowOne_Throws(int value)
    {
        var options = new AsyncExecutorOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxWorkers = value);
    }

    [Test]
    public void TimeProvider_Null_Throws()
    {
        var options = new AsyncExecutorOptions();

        Assert.Throws<ArgumentNullException>(() => options.TimeProvider = null!);
    }

    [Test]
    public void RetryDelay_NegativeOrOverADay_Throws()
    {
        var options = new AsyncExecutorOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => options.RetryDelay = TimeSpan.FromMilliseconds(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => options.RetryDelay = TimeSpan.FromDays(1) + TimeSpan.FromTicks(1));
        Assert.DoesNotThrow(() => options.RetryDelay = TimeSpan.Zero);
    }

    [Test]
    public void MaxRetryDelay_NegativeOrOverADay_Throws()
    {
        var options = new AsyncExecutorOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxRetryDelay = TimeSpan.FromSeconds(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxRetryDelay = TimeSpan.FromDays(2));
        Assert.DoesNotThrow(() => options.MaxRetryDelay = null);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Options_ExtremeValidValues_BuildAWorkingRetryPipeline(CancellationToken cancellationToken)
    {
        await using var executor = new AsyncExecutor(new AsyncExecutorOptions
        {
            MaxWorkers = 1,
            RetryDelay = TimeSpan.FromDays(1),
            MaxRetryDelay = TimeSpan.FromDays(1),
            RetryBackoffType = DelayBackoffType.Linear,
            UseJitter = false,
        });

        IReadOnlyList<int> results = await executor.MapAsync([1, 2], (int x, CancellationToken ct) => Task.FromResult(x), retries: 5);

        Assert.That(results, Is.EqualTo(new[] { 1, 2 }));
    }
}
