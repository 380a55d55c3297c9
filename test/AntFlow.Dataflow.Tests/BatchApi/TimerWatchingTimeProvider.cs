using Microsoft.Extensions.Time.Testing;

namespace AntFlow.Dataflow.Tests.BatchApi;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that lets a test wait until the code under test has started a timer (a delay or a
/// timeout) before advancing the clock; advancing earlier would leave the timer due in the future forever.
/// </summary>
internal sealed class TimerWatchingTimeProvider : FakeTimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<TimeSpan> _created = []; // protected by _lock
    private readonly List<(Func<TimeSpan, bool> Matches, TaskCompletionSource Started)> _waiters = []; // protected by _lock

    /// <summary>Completes when a timer whose due time matches <paramref name="dueTime"/> has been created (counting earlier ones not yet claimed).</summary>
    public Task WaitForTimerAsync(Func<TimeSpan, bool> dueTime, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            int index = _created.FindIndex(t => dueTime(t));
            if (index >= 0)
            {
                _created.RemoveAt(index);
                return Task.CompletedTask;
            }

            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((dueTime, started));
            return started.Task.WaitAsync(cancellationToken);
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        TaskCompletionSource? started = null;
        lock (_lock)
        {
            int index = _waiters.FindIndex(w => w.Matches(dueTime));
            if (index >= 0)
            {
                started = _waiters[index].Started;
                _waiters.RemoveAt(index);
            }
            else
            {
                _created.Add(dueTime);
            }
        }

        // Completed outside the lock: the waiting test continues on its own thread anyway (RunContinuationsAsynchronously).
        started?.TrySetResult();
        return timer;
    }
}
