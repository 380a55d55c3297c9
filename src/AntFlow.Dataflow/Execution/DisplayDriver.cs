using AntFlow.Dataflow.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AntFlow.Dataflow.Execution;

/// <summary>Drives an <see cref="IPipelineDisplay"/> during a run: start, periodic updates from a timer, finish. Display errors are logged and ignored.</summary>
internal sealed class DisplayDriver : IAsyncDisposable
{
    private readonly IPipelineDisplay _display;
    private readonly IPipelineMonitor _monitor;
    private readonly ILogger _logger;
    private readonly PeriodicTimer _timer;
    private readonly Task _loop;

    private DisplayDriver(IPipelineDisplay display, IPipelineMonitor monitor, int? totalItems, TimeSpan interval, TimeProvider timeProvider, ILogger logger)
    {
        _display = display;
        _monitor = monitor;
        _logger = logger;
        Call(nameof(IPipelineDisplay.OnStart), () => _display.OnStart(_monitor, totalItems));
        _timer = new PeriodicTimer(interval, timeProvider);
        _loop = RunAsync();
    }

    public static DisplayDriver Start(IPipelineDisplay display, IPipelineMonitor monitor, int? totalItems, TimeSpan interval, TimeProvider timeProvider, ILogger logger) =>
        new(display, monitor, totalItems, interval, timeProvider, logger);

    /// <summary>Stops the updates and shows the final state.</summary>
    public async ValueTask DisposeAsync()
    {
        _timer.Dispose();
        await _loop.ConfigureAwait(false);
        Call(nameof(IPipelineDisplay.OnFinish), () => _display.OnFinish(_monitor.GetDashboardSnapshot()));
    }

    private async Task RunAsync()
    {
        while (await _timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            Call(nameof(IPipelineDisplay.OnUpdate), () => _display.OnUpdate(_monitor.GetDashboardSnapshot()));
        }
    }

    private void Call(string method, Action action)
    {
        try
        {
            action();
        }
        catch (Exception error)
        {
            PipelineLog.DisplayFailed(_logger, method, error);
        }
    }
}
