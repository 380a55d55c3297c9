using Microsoft.Extensions.Hosting;

namespace FakeBatchService;

/// <summary>
/// The lifetime of a service started in-process: unlike the console lifetime it does not take over Ctrl+C, so the
/// program hosting it decides what Ctrl+C does (the BatchApi example cancels its run and keeps the service up).
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
