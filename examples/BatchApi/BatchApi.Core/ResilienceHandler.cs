using System.Globalization;
using System.Net;
using AntFlow.Dataflow;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace BatchApi;

/// <summary>
/// Runs every HTTP call through a Polly pipeline: retries (exponential backoff with jitter, or exactly what
/// <c>Retry-After</c> asks for) around a per-attempt timeout. Sits between <see cref="HttpClient"/> and the socket handler.
/// </summary>
internal sealed class ResilienceHandler : DelegatingHandler
{
    /// <summary>The name of the call (<c>upload</c>, <c>poll</c>, <c>download</c>) for status texts and errors.</summary>
    public static readonly HttpRequestOptionsKey<string> OperationKey = new("BatchApi.Operation");

    private static readonly ResiliencePropertyKey<string> OperationProperty = new("BatchApi.Operation");

    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly ClientCounters _counters;
    private readonly BatchApiClientOptions _options;

    public ResilienceHandler(HttpMessageHandler inner, BatchApiClientOptions options, ClientCounters counters)
        : base(inner)
    {
        _options = options;
        _counters = counters;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = options.TimeProvider };
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Outcome)),
                DelayGenerator = args => new ValueTask<TimeSpan?>(RetryAfterWait(args.Outcome)),
                OnRetry = OnRetryAsync,
            });
        }

        // Added last, so it is the innermost strategy: each attempt has its own timeout.
        builder.AddTimeout(new TimeoutStrategyOptions
        {
            Timeout = options.AttemptTimeout,
            OnTimeout = _ =>
            {
                _counters.Timeout();
                return default;
            },
        });
        _pipeline = builder.Build();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(OperationProperty, request.Options.TryGetValue(OperationKey, out string? operation) ? operation : "call");
        try
        {
            // Retries send the same request message again: its content is a byte array, so it can be sent again.
            return await _pipeline.ExecuteAsync(
                static (ctx, state) => state.Handler.AttemptAsync(state.Request, ctx.CancellationToken),
                context,
                (Handler: this, Request: request)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<HttpResponseMessage> AttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _counters.Attempt();
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            _counters.ConnectionError();
            throw;
        }

        _counters.Response(response.StatusCode);
        return response;
    }

    private bool ShouldRetry(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutRejectedException or HttpRequestException } => true,
        { Result: { } response } => BatchApiClient.IsTransient(response.StatusCode)
            && !(RetryAfter.Read(response, _options.TimeProvider) > _options.MaxRetryAfter),
        _ => false,
    };

    private TimeSpan? RetryAfterWait(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Result is not { } response || RetryAfter.Read(response, _options.TimeProvider) is not { } wait)
        {
            return null;
        }

        // At least what the service asked for; up to a fifth more, so the callers it throttled together do not all
        // come back at the same instant and get throttled again.
        return wait + (wait * (Random.Shared.NextDouble() * 0.2));
    }

    private ValueTask OnRetryAsync(OnRetryArguments<HttpResponseMessage> args)
    {
        HttpStatusCode? status = args.Outcome.Result?.StatusCode;
        TimeSpan? retryAfter = args.Outcome.Result is { } response ? RetryAfter.Read(response, _options.TimeProvider) : null;
        _counters.Retry(status, retryAfter is null ? null : args.RetryDelay);
        string operation = args.Context.Properties.GetValue(OperationProperty, "call");
        string reason = status is { } code
            ? ((int)code).ToString(CultureInfo.InvariantCulture)
            : args.Outcome.Exception is TimeoutRejectedException ? "timeout" : "connection error";

        // Shows on the dashboard as the worker's current task, when the call runs inside a pipeline worker.
        WorkerContext.SetTaskStatus(string.Create(
            CultureInfo.InvariantCulture,
            $"{operation}: {reason}, retry {args.AttemptNumber + 1}/{_options.MaxRetryAttempts} in {args.RetryDelay.TotalMilliseconds:F0} ms"));

        // The answer is thrown away: release its connection now.
        args.Outcome.Result?.Dispose();
        return default;
    }
}
