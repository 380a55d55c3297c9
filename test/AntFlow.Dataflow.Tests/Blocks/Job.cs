namespace AntFlow.Dataflow.Tests.Blocks;

/// <summary>A test item: its priority and an id unique within a test (public so Moq can proxy dataflow interfaces over it).</summary>
public readonly record struct Job(int Priority, int Id);
