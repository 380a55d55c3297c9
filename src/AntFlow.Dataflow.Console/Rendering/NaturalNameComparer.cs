namespace AntFlow.Dataflow.Console.Rendering;

/// <summary>Orders names so that a trailing number compares numerically: <c>Fetch-W2</c> before <c>Fetch-W10</c>.</summary>
internal sealed class NaturalNameComparer : IComparer<string>
{
    /// <summary>Gets the shared instance.</summary>
    public static NaturalNameComparer Instance { get; } = new();

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        int xSplit = DigitsStart(x);
        int ySplit = DigitsStart(y);
        int byPrefix = x.AsSpan(0, xSplit).CompareTo(y.AsSpan(0, ySplit), StringComparison.Ordinal);
        if (byPrefix != 0)
        {
            return byPrefix;
        }

        // Same prefix: the shorter digit run (leading zeros aside) is the smaller number, whatever its size.
        ReadOnlySpan<char> xDigits = x.AsSpan(xSplit).TrimStart('0');
        ReadOnlySpan<char> yDigits = y.AsSpan(ySplit).TrimStart('0');
        int byLength = xDigits.Length.CompareTo(yDigits.Length);
        if (byLength != 0)
        {
            return byLength;
        }

        int byDigits = xDigits.CompareTo(yDigits, StringComparison.Ordinal);
        return byDigits != 0 ? byDigits : string.CompareOrdinal(x, y);
    }

    private static int DigitsStart(string name)
    {
        int start = name.Length;
        while (start > 0 && char.IsAsciiDigit(name[start - 1]))
        {
            start--;
        }

        return start;
    }
}
