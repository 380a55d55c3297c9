using AntFlow.Dataflow.Execution;

namespace AntFlow.Dataflow.Tests.Pipelines;

[TestFixture]
public sealed class EnvelopeTests
{
    [TestCase(1, 1, false)]
    [TestCase(3, 7, true)]
    [TestCase(Envelope<int>.MaxAttempts, Envelope<int>.MaxAttempts, true)]
    public void Constructor_AnyAllowedCounts_ReadsThemBack(int attempt, int maxAttempt, bool skipped)
    {
        var envelope = new Envelope<int>(new ItemTicket(id: null, sequence: 5, priority: 3, injected: false), attempt, maxAttempt, skipped, 42);

        Assert.Multiple(() =>
        {
            Assert.That(envelope.Attempt, Is.EqualTo(attempt));
            Assert.That(envelope.MaxAttempt, Is.EqualTo(maxAttempt));
            Assert.That(envelope.Skipped, Is.EqualTo(skipped));
            Assert.That(envelope.Value, Is.EqualTo(42));
            Assert.That(envelope.Priority, Is.EqualTo(3));
            Assert.That(envelope.IsEmpty, Is.False);
        });
    }

    [Test]
    public void Retry_RaisesAttemptAndHighestAttempt_KeepsTheRest()
    {
        var envelope = new Envelope<string>(new ItemTicket("job-1", sequence: 9, priority: 0, injected: true), attempt: 2, maxAttempt: 2, skipped: true, "v");

        Envelope<string> retry = envelope.Retry();

        Assert.Multiple(() =>
        {
            Assert.That(retry.Attempt, Is.EqualTo(3));
            Assert.That(retry.MaxAttempt, Is.EqualTo(3));
            Assert.That(retry.Skipped, Is.True);
            Assert.That(retry.Injected, Is.True);
            Assert.That(retry.Id, Is.EqualTo("job-1"));
            Assert.That(retry.Value, Is.EqualTo("v"));
        });
    }

    [Test]
    public void Next_StartsAtAttemptOneInTheNextStage_CarriesTheHighestAttempt()
    {
        var envelope = new Envelope<int>(new ItemTicket(id: null, sequence: 1, priority: 100, injected: false), attempt: 4, maxAttempt: 4, skipped: false, 1);

        Envelope<string> next = envelope.Next("one", maxAttempt: 5, skipped: true);

        Assert.Multiple(() =>
        {
            Assert.That(next.Attempt, Is.EqualTo(1));
            Assert.That(next.MaxAttempt, Is.EqualTo(5));
            Assert.That(next.Skipped, Is.True);
            Assert.That(next.Sequence, Is.EqualTo(1));
            Assert.That(next.Ticket, Is.SameAs(envelope.Ticket));
        });
    }

    [Test]
    public void Default_IsEmpty()
    {
        Assert.That(default(Envelope<int>).IsEmpty, Is.True);
    }

    [Test]
    public void TicketId_WithoutSelector_IsTheSequenceBoxedOnce()
    {
        var ticket = new ItemTicket(id: null, sequence: 12, priority: 100, injected: false);

        object first = ticket.Id;

        Assert.That(first, Is.EqualTo(12L));
        Assert.That(ticket.Id, Is.SameAs(first));
    }
}
