namespace AntFlow.Dataflow;

/// <summary>Exceptions <see cref="AsyncExecutor"/> creates in more than one place.</summary>
internal static class ExecutorErrors
{
    public static InvalidOperationException NullTask() =>
        new("The job returned a null Task instead of a task to await.");

    public static ExecutorShutdownException Shutdown() => new();
}
