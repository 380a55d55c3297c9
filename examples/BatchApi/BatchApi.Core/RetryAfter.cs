using System.Globalization;
using System.Net.Http.Headers;

namespace BatchApi;

/// <summary>Reads how long the service asked the client to wait.</summary>
internal static class RetryAfter
{
    /// <summary>
    /// The wait from <c>retry-after-ms</c> (milliseconds, as some LLM APIs send; <c>Retry-After</c> only has whole
    /// seconds), else from <c>Retry-After</c> (seconds or an HTTP date), else <see langword="null"/>.
    /// </summary>
    public static TimeSpan? Read(HttpResponseMessage response, TimeProvider time)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out IEnumerable<string>? values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out double ms)
            && ms >= 0 && double.IsFinite(ms))
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        RetryConditionHeaderValue? header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            TimeSpan wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }
}
