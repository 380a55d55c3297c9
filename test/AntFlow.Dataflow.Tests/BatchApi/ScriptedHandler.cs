using System.Net;
using System.Text;
using System.Threading.Channels;

namespace AntFlow.Dataflow.Tests.BatchApi;

/// <summary>The I/O seam of <c>BatchApiClient</c>: answers each request with the next scripted response, and reports every request it gets.</summary>
internal sealed class ScriptedHandler(params Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>[] script) : HttpMessageHandler
{
    private readonly Channel<HttpRequestMessage> _received = Channel.CreateUnbounded<HttpRequestMessage>();
    private int _next;

    public ChannelReader<HttpRequestMessage> Received => _received.Reader;

    public int Calls => Volatile.Read(ref _next);

    public static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Answer(HttpStatusCode status, string body = "", Action<HttpResponseMessage>? configure = null) =>
        (_, _) =>
        {
            var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            configure?.Invoke(response);
            return Task.FromResult(response);
        };

    /// <summary>Never answers: waits until the caller gives up.</summary>
    public static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Hang() =>
        async (_, ct) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            throw new InvalidOperationException("unreachable");
        };

    public static string BatchJson(string id, string status = "validating") =>
        $$$"""{"id":"{{{id}}}","status":"{{{status}}}","created_at":"2025-01-01T00:00:00+00:00","completed_at":null,"request_counts":{"total":2,"completed":0,"failed":0}}""";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        int index = Interlocked.Increment(ref _next) - 1;
        _received.Writer.TryWrite(request);
        return index < script.Length
            ? script[index](request, cancellationToken)
            : throw new InvalidOperationException($"Request {index + 1} was not scripted.");
    }
}
