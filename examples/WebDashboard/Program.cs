// WebDashboard: watch a demo pipeline run live in the browser.
// Run: dotnet run --project examples/WebDashboard [-- --urls http://127.0.0.1:5080] [--items 5000]
// then open the printed address and press Start.
using WebDashboard;

await using WebApplication app = WebDashboardApp.Build(args);
await app.StartAsync();

// One line that scripts (and the browser tests) can wait for; with --urls http://127.0.0.1:0 it has the real port.
foreach (string address in WebDashboardApp.GetAddresses(app))
{
    Console.WriteLine($"Web dashboard listening on {address}");
}

await app.WaitForShutdownAsync();
