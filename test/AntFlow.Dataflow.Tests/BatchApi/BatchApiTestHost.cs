using BatchApi;
using FakeBatchService;

namespace AntFlow.Dataflow.Tests.BatchApi;

/// <summary>A fake batch service on a loopback port, a client for it and a temp-file SQLite database, disposed together.</summary>
internal sealed class BatchApiTestHost : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _stores = [];

    private BatchApiTestHost(FakeBatchServer server, BatchApiClient client, string databasePath, SqliteBatchResultStore store)
    {
        Server = server;
        Client = client;
        DatabasePath = databasePath;
        Store = store;
        _stores.Add(store);
    }

    public FakeBatchServer Server { get; }

    public BatchApiClient Client { get; }

    public string DatabasePath { get; }

    public SqliteBatchResultStore Store { get; }

    /// <summary>Fast, seeded timings: batches take 10-300 ms (heavy-tailed); 5 % of calls fail, 3 % are throttled, 0.5 % hang.</summary>
    public static FakeBatchServiceOptions FastService(int seed = 7) => new()
    {
        Seed = seed,
        MinProcessingTime = TimeSpan.FromMilliseconds(10),
        MaxProcessingTime = TimeSpan.FromMilliseconds(300),
        ServerErrorRate = 0.05,
        ThrottleRate = 0.03,
        ThrottleRetryAfter = TimeSpan.FromMilliseconds(10),
        HangRate = 0.005,
        RequestsPerSecond = 3000,
        Burst = 100,
        Latency = TimeSpan.Zero,
    };

    /// <summary>Short backoffs; a call silent for 2 s has hung (answers take milliseconds).</summary>
    public static BatchApiClientOptions FastClient(int maxRetryAttempts = 5) => new()
    {
        AttemptTimeout = TimeSpan.FromSeconds(2),
        MaxRetryAttempts = maxRetryAttempts,
        RetryDelay = TimeSpan.FromMilliseconds(5),
        MaxRetryDelay = TimeSpan.FromMilliseconds(50),
    };

    public static BatchPipelineOptions FastPipeline() => new()
    {
        PollInterval = TimeSpan.FromMilliseconds(20),
        StageAttempts = 10,
        StageRetryDelay = TimeSpan.FromMilliseconds(10),
    };

    public static async Task<BatchApiTestHost> StartAsync(FakeBatchServiceOptions service, BatchApiClientOptions client, CancellationToken cancellationToken)
    {
        string path = Path.Combine(Path.GetTempPath(), $"antflow-batch-{Guid.NewGuid():N}.db");
        FakeBatchServer server = await FakeBatchServer.StartAsync(service, cancellationToken);
        var apiClient = new BatchApiClient(server.BaseAddress, client);
        SqliteBatchResultStore store = await SqliteBatchResultStore.OpenFileAsync(path, cancellationToken: cancellationToken);
        return new BatchApiTestHost(server, apiClient, path, store);
    }

    public async Task<SqliteCheckpointStore> OpenCheckpointAsync(CancellationToken cancellationToken)
    {
        SqliteCheckpointStore checkpoint = await SqliteCheckpointStore.OpenFileAsync(DatabasePath, "batch-api", cancellationToken: cancellationToken);
        _stores.Add(checkpoint);
        return checkpoint;
    }

    /// <summary>What the fake model answers to each request of <paramref name="job"/>, in request order.</summary>
    public static IReadOnlyList<BatchOutput> ExpectedOutputs(BatchJob job) =>
        job.Requests.Select(r => new BatchOutput(r.CustomId, FakeBatchModel.Respond(r.Body))).ToArray();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        foreach (IAsyncDisposable store in _stores)
        {
            await store.DisposeAsync();
        }

        await Server.DisposeAsync();
        foreach (string file in new[] { DatabasePath, DatabasePath + "-wal", DatabasePath + "-shm" })
        {
            File.Delete(file);
        }
    }
}
