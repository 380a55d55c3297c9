using System.Globalization;

namespace FakeBatchService;

/// <summary>What the fake service's "model" answers to a prompt: deterministic, so clients and tests can check results.</summary>
public static class FakeBatchModel
{
    /// <summary>The answer to <paramref name="prompt"/>: the prompt upper-cased, followed by its word count.</summary>
    /// <param name="prompt">The request body.</param>
    /// <returns>The output text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="prompt"/> is null.</exception>
    public static string Respond(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        int words = prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        return string.Create(CultureInfo.InvariantCulture, $"{prompt.ToUpperInvariant()} [{words} words]");
    }
}
