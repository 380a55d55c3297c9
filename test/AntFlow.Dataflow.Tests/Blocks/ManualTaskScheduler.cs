namespace AntFlow.Dataflow.Tests.Blocks;

/// <summary>Queues tasks until the test runs them on its own thread, which makes a block's background work deterministic.</summary>
internal sealed class ManualTaskScheduler : TaskScheduler
{
    private readonly Queue<Task> _tasks = new();
    private readonly object _gate = new();

    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _tasks.Count;
            }
        }
    }

    /// <summary>Runs queued tasks, and those they queue, until none is left.</summary>
    /// <returns>The number of tasks run.</returns>
    public int RunAll()
    {
        int ran = 0;
        while (true)
        {
            Task next;
            lock (_gate)
            {
                if (_tasks.Count == 0)
                {
                    return ran;
                }

                next = _tasks.Dequeue();
            }

            TryExecuteTask(next);
            ran++;
        }
    }

    protected override void QueueTask(Task task)
    {
        lock (_gate)
        {
            _tasks.Enqueue(task);
        }
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_gate)
        {
            return _tasks.ToArray();
        }
    }
}
