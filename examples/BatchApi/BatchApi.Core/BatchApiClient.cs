using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace BatchApi;

/// <summary>
/// A client for the batch API (<c>POST /batches</c>, <c>GET /batches/{id}</c>, <c>GET /batches/{id}/results</c>).
/// Every call goes through a Polly pipeline: per-attempt timeout, retries with exponential backoff and jitter, and
/// exactly the wait the service asks for in <c>Retry-After</c>. Thread-safe; share one instance.
/// </summary>
public sealed class BatchApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly ClientCounters _counters = new();

    /// <summary>Initializes a new instance of the <see cref="BatchApiClient"/> class over a socket connection to <paramref name="baseAddress"/>.</summary>
    /// <param name="baseAddress">The service's address, for example <c>http://127.0.0.1:5080/</c>.</param>
    /// <param name="options">Retries and timeouts; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="baseAddress"/> is null.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public BatchApiClient(Uri baseAddress, BatchApiClientOptions? options = null)
        : this(baseAddress, new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }, options)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="BatchApiClient"/> class that sends through <paramref name="innerHandler"/> (which it disposes).</summary>
    /// <param name="baseAddress">The service's address.</param>
    /// <param name="innerHandler">The handler that does the I/O, below the retry and timeout layer.</param>
    /// <param name="options">Retries and timeouts; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="baseAddress"/> or <paramref name="innerHandler"/> is null.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public BatchApiClient(Uri baseAddress, HttpMessageHandler innerHandler, BatchApiClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentNullException.ThrowIfNull(innerHandler);
        options ??= new BatchApiClientOptions();
        options.Validate();
        Options = options;
        string address = baseAddress.ToString();
        _http = new HttpClient(new ResilienceHandler(innerHandler, options, _counters))
        {
            BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/"),

            // Each attempt has its own timeout (AttemptTimeout); the whole call ends when the caller cancels.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Gets the options the client was created with.</summary>
    public BatchApiClientOptions Options { get; }

    /// <summary>Returns what the client has seen so far: attempts, error answers, timeouts and retries.</summary>
    /// <returns>A snapshot of the counters.</returns>
    public BatchApiClientStats GetStats() => _counters.Snapshot();

    /// <summary>Uploads a batch. The batch id goes in <c>Idempotency-Key</c>: a retry after a lost answer gets the same batch back instead of a second one.</summary>
    /// <param name="payload">The rendered batch.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The service's batch.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="payload"/> is null.</exception>
    /// <exception cref="BatchApiException">The service answered with an error (after retries).</exception>
    /// <exception cref="HttpRequestException">The service could not be reached (after retries).</exception>
    /// <exception cref="Polly.Timeout.TimeoutRejectedException">The last attempt timed out.</exception>
    public async Task<BatchInfo> CreateBatchAsync(BatchPayload payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, "batches")
        {
            Content = new ReadOnlyMemoryContent(payload.Content) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Add("Idempotency-Key", Options.IdempotencyKeyPrefix + payload.Job.BatchId);
        request.Options.Set(ResilienceHandler.OperationKey, "upload");
        using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "upload", cancellationToken).ConfigureAwait(false);
        return ToInfo(await ReadJsonAsync<WireBatch>(response, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Gets a batch's current state.</summary>
    /// <param name="batchId">The service's id of the batch.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The batch's state.</returns>
    /// <exception cref="ArgumentException"><paramref name="batchId"/> is null or empty.</exception>
    /// <exception cref="BatchApiException">The service answered with an error (after retries).</exception>
    /// <exception cref="HttpRequestException">The service could not be reached (after retries).</exception>
    /// <exception cref="Polly.Timeout.TimeoutRejectedException">The last attempt timed out.</exception>
    public async Task<BatchInfo> GetBatchAsync(string batchId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(batchId);
        using var request = new HttpRequestMessage(HttpMethod.Get, "batches/" + Uri.EscapeDataString(batchId));
        request.Options.Set(ResilienceHandler.OperationKey, "poll");
        using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "poll", cancellationToken).ConfigureAwait(false);
        return ToInfo(await ReadJsonAsync<WireBatch>(response, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Downloads a completed batch's results.</summary>
    /// <param name="batchId">The service's id of the batch.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>One answer per request, in the order the service sent them.</returns>
    /// <exception cref="ArgumentException"><paramref name="batchId"/> is null or empty.</exception>
    /// <exception cref="BatchApiException">The service answered with an error (after retries), for example 409 when the batch is not completed.</exception>
    /// <exception cref="HttpRequestException">The service could not be reached (after retries).</exception>
    /// <exception cref="Polly.Timeout.TimeoutRejectedException">The last attempt timed out.</exception>
    /// <exception cref="JsonException">A result line is not valid JSON.</exception>
    public async Task<IReadOnlyList<BatchOutput>> GetResultsAsync(string batchId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(batchId);
        using var request = new HttpRequestMessage(HttpMethod.Get, "batches/" + Uri.EscapeDataString(batchId) + "/results");
        request.Options.Set(ResilienceHandler.OperationKey, "download");
        using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "download", cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var outputs = new List<BatchOutput>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            WireResult result = JsonSerializer.Deserialize<WireResult>(line, WireJson.Options)
                ?? throw new JsonException($"Batch '{batchId}' has an empty result line.");
            outputs.Add(new BatchOutput(result.CustomId, result.Output));
        }

        return outputs;
    }

    /// <summary>Releases the connections.</summary>
    public void Dispose() => _http.Dispose();

    /// <summary>Tells whether an answer with this status may succeed when tried again later.</summary>
    internal static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)status >= 500;

    private static BatchInfo ToInfo(WireBatch batch) => new(
        batch.Id,
        batch.Status,
        batch.CreatedAt,
        batch.CompletedAt,
        batch.RequestCounts?.Total ?? 0,
        batch.RequestCounts?.Completed ?? 0,
        batch.RequestCounts?.Failed ?? 0);

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
        where T : class
    {
        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            return await JsonSerializer.DeserializeAsync<T>(body, WireJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException($"The service sent an empty {typeof(T).Name}.");
        }
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string detail = string.Empty;
        try
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            WireProblem? problem = body.Length > 0 ? JsonSerializer.Deserialize<WireProblem>(body, WireJson.Options) : null;
            detail = problem?.Title is { Length: > 0 } title ? ": " + title : string.Empty;
        }
        catch (JsonException)
        {
            // Not a problem document; the status code says enough.
        }

        int code = (int)response.StatusCode;
        var message = new StringBuilder().Append(operation).Append(" failed with HTTP ").Append(code).Append(detail).ToString();
        throw new BatchApiException(message, operation, response.StatusCode, RetryAfter.Read(response, Options.TimeProvider));
    }
}
