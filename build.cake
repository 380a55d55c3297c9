// Build script: dotnet tool restore && dotnet cake --target=<Clean|Build|Test|Pack|Bench|Demo|CI>
var target = Argument("target", "Build");
var configuration = Argument("configuration", "Release");
var benchFilter = Argument("bench-filter", "*");
var solution = "./AntFlow.Dataflow.sln";
var artifacts = Directory("./artifacts");

Task("Clean")
    .Does(() =>
{
    CleanDirectory(artifacts);
    DotNetClean(solution, new DotNetCleanSettings { Configuration = configuration });
});

Task("Build")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration });
});

Task("Test")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetTest(solution, new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        Loggers = { "trx;LogFileName=results.trx" },
        ResultsDirectory = artifacts + Directory("test-results"),
    });
});

Task("Pack")
    .IsDependentOn("Build")
    .Does(() =>
{
    foreach (var project in GetFiles("./src/*/*.csproj"))
    {
        DotNetPack(project.FullPath, new DotNetPackSettings
        {
            Configuration = configuration,
            NoBuild = true,
            OutputDirectory = artifacts + Directory("packages"),
        });
    }
});

Task("Bench")
    .Does(() =>
{
    DotNetRun("./test/AntFlow.Dataflow.Benchmarks/AntFlow.Dataflow.Benchmarks.csproj",
        new ProcessArgumentBuilder().Append("--filter").AppendQuoted(benchFilter),
        new DotNetRunSettings { Configuration = "Release" });
});

Task("Demo")
    .Does(() =>
{
    DotNetRun("./examples/QuickStart/QuickStart.csproj", new DotNetRunSettings { Configuration = configuration });
});

Task("CI")
    .IsDependentOn("Test")
    .IsDependentOn("Pack");

RunTarget(target);
