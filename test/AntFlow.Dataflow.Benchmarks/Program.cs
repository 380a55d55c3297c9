using BenchmarkDotNet.Running;

namespace AntFlow.Dataflow.Benchmarks;

/// <summary>Runs the benchmarks chosen on the command line (see docs/benchmarks.md).</summary>
public static class Program
{
    /// <summary>Entry point: forwards the arguments to BenchmarkDotNet's switcher.</summary>
    /// <param name="args">BenchmarkDotNet arguments, for example <c>--filter *Throughput*</c>.</param>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
