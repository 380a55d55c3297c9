// The fake batch service on its own: dotnet run --project examples/BatchApi/FakeBatchService -- [--urls http://127.0.0.1:5080]
//   [--seed 1] [--min-ms 300] [--max-ms 9000] [--error-rate 0.02] [--throttle-rate 0] [--hang-rate 0.005] [--rps 200]
using System.Globalization;
using FakeBatchService;

var options = new FakeBatchServiceOptions
{
    Seed = Read(args, "--seed", 1),
    MinProcessingTime = TimeSpan.FromMilliseconds(Read(args, "--min-ms", 300.0)),
    MaxProcessingTime = TimeSpan.FromMilliseconds(Read(args, "--max-ms", 9000.0)),
    ServerErrorRate = Read(args, "--error-rate", 0.02),
    ThrottleRate = Read(args, "--throttle-rate", 0.0),
    HangRate = Read(args, "--hang-rate", 0.005),
    RequestsPerSecond = Read(args, "--rps", 200.0) is > 0 and var rps ? rps : null,
    ConfigureLogging = logging => logging.AddSimpleConsole().AddFilter("Microsoft.AspNetCore", LogLevel.Warning),
};

string urls = args.SkipWhile(a => a != "--urls").Skip(1).FirstOrDefault() ?? "http://127.0.0.1:5080";
(WebApplication app, _) = FakeBatchServer.CreateApplication(options, [], urls, embedded: false);
await app.RunAsync();

static T Read<T>(string[] args, string name, T fallback)
    where T : IParsable<T>
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? T.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
