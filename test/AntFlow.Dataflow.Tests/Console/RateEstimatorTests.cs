using AntFlow.Dataflow.Console.Rendering;

namespace AntFlow.Dataflow.Tests.Console;

[TestFixture]
public sealed class RateEstimatorTests
{
    private static readonly DateTimeOffset T0 = SnapshotBuilder.T0;

    [Test]
    public void Rate_OneSample_IsUnknown()
    {
        var estimator = new RateEstimator();

        estimator.Observe(10, T0);

        Assert.That(estimator.Rate, Is.Null);
        Assert.That(estimator.AverageRate, Is.Null);
        Assert.That(estimator.StartedAt, Is.EqualTo(T0));
    }

    [Test]
    public void Rate_SteadyProgress_EqualsTheSteadyRate()
    {
        var estimator = new RateEstimator();

        for (int i = 0; i <= 10; i++)
        {
            estimator.Observe(i * 20, T0 + TimeSpan.FromSeconds(i * 0.5));
        }

        Assert.That(estimator.Rate, Is.EqualTo(40).Within(1e-9));
        Assert.That(estimator.AverageRate, Is.EqualTo(40).Within(1e-9));
    }

    [Test]
    public void Rate_SpeedChanges_MovesTowardsTheNewSpeedSmoothly()
    {
        var estimator = new RateEstimator(TimeSpan.FromSeconds(8));
        long done = 0;
        DateTimeOffset at = T0;
        estimator.Observe(done, at);
        for (int i = 0; i < 20; i++)
        {
            at += TimeSpan.FromSeconds(1);
            done += 10;
            estimator.Observe(done, at);
        }

        at += TimeSpan.FromSeconds(1);
        done += 100;
        estimator.Observe(done, at);

        Assert.That(estimator.Rate, Is.GreaterThan(10).And.LessThan(30), "one fast second nudges the rate, it does not jump to 100/s");
        Assert.That(estimator.AverageRate, Is.EqualTo(300.0 / 21).Within(1e-9));
    }

    [Test]
    public void Observe_SameTimestamp_CountsProgressAtTheNextSample()
    {
        var estimator = new RateEstimator();
        estimator.Observe(0, T0);

        estimator.Observe(50, T0);
        Assert.That(estimator.Rate, Is.Null, "no time passed: no rate yet");

        estimator.Observe(100, T0 + TimeSpan.FromSeconds(2));
        Assert.That(estimator.Rate, Is.EqualTo(50).Within(1e-9));
    }

    [Test]
    public void Reset_AfterSamples_ForgetsEverything()
    {
        var estimator = new RateEstimator();
        estimator.Observe(0, T0);
        estimator.Observe(10, T0 + TimeSpan.FromSeconds(1));

        estimator.Reset();

        Assert.That(estimator.Rate, Is.Null);
        Assert.That(estimator.StartedAt, Is.Null);
    }

    [Test]
    public void Estimate_RemainingAndRate_IsRemainingOverRate()
    {
        Assert.That(RateEstimator.Estimate(80, 40), Is.EqualTo(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void Estimate_NothingRemaining_IsZero()
    {
        Assert.That(RateEstimator.Estimate(0, null), Is.EqualTo(TimeSpan.Zero));
    }

    [TestCase(null)]
    [TestCase(0.0)]
    [TestCase(1e-12)]
    [TestCase(double.NaN)]
    public void Estimate_RateUnknownZeroOrAbsurd_IsUnknown(double? rate)
    {
        Assert.That(RateEstimator.Estimate(1_000_000, rate), Is.Null);
    }

    [Test]
    public void Ctor_NonPositiveTimeConstant_Throws()
    {
        Assert.That(() => new RateEstimator(TimeSpan.Zero), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
