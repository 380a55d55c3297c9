using System.Net;

namespace BatchApi;

/// <summary>The batch service answered a call with an error status (after the client's own retries, if any).</summary>
public sealed class BatchApiException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="BatchApiException"/> class.</summary>
    public BatchApiException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="BatchApiException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public BatchApiException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="BatchApiException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public BatchApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="BatchApiException"/> class for an error answer.</summary>
    /// <param name="message">The message.</param>
    /// <param name="operation">The call that failed: <c>upload</c>, <c>poll</c> or <c>download</c>.</param>
    /// <param name="statusCode">The HTTP status the service answered.</param>
    /// <param name="retryAfter">The wait the service asked for, if any.</param>
    public BatchApiException(string message, string operation, HttpStatusCode statusCode, TimeSpan? retryAfter)
        : base(message)
    {
        Operation = operation;
        StatusCode = statusCode;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets the call that failed: <c>upload</c>, <c>poll</c> or <c>download</c>.</summary>
    public string? Operation { get; }

    /// <summary>Gets the HTTP status the service answered.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets the wait the service asked for (<c>Retry-After</c>), if any.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets a value indicating whether trying again later may succeed (429, 408 and 5xx answers).</summary>
    public bool IsTransient => StatusCode is { } code && BatchApiClient.IsTransient(code);
}
