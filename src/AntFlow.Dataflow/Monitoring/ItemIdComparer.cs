using System.Numerics;

namespace AntFlow.Dataflow;

/// <summary>
/// Compares item ids the way the pipeline and <see cref="StatusTracker"/> do: integral numbers compare by value
/// whatever their CLR type (<c>(byte)3</c>, <c>3</c>, <c>3u</c>, <c>3L</c>, <c>3UL</c> and <c>(BigInteger)3</c> are the
/// same id), and every other value uses its own <see cref="object.Equals(object)"/> and <see cref="object.GetHashCode"/>.
/// </summary>
/// <remarks>
/// The integral types are <see cref="sbyte"/>, <see cref="byte"/>, <see cref="short"/>, <see cref="ushort"/>,
/// <see cref="int"/>, <see cref="uint"/>, <see cref="long"/>, <see cref="ulong"/>, <see cref="nint"/>,
/// <see cref="nuint"/>, <see cref="Int128"/>, <see cref="UInt128"/> and <see cref="BigInteger"/>. <see cref="char"/>,
/// enums, <see cref="bool"/>, floating-point numbers and <see cref="decimal"/> are not integral ids, so <c>3.0</c>,
/// <c>3m</c> and <c>'\u0003'</c> never equal <c>3L</c>. An integral id never equals a non-integral one, which keeps the
/// comparison symmetric. Two <see langword="null"/> ids are equal.
/// </remarks>
public sealed class ItemIdComparer : IEqualityComparer<object>
{
    private ItemIdComparer()
    {
    }

    /// <summary>Gets the single instance.</summary>
    public static ItemIdComparer Instance { get; } = new();

    /// <summary>Determines whether two item ids are the same id.</summary>
    /// <param name="x">The first id.</param>
    /// <param name="y">The second id.</param>
    /// <returns><see langword="true"/> when both denote the same item.</returns>
    public new bool Equals(object? x, object? y)
    {
        if (ReferenceEquals(x, y))
        {
            return true;
        }

        if (x is null || y is null)
        {
            return false;
        }

        IntegerKind xKind = Classify(x, out Int128 xSmall);
        IntegerKind yKind = Classify(y, out Int128 ySmall);
        return (xKind, yKind) switch
        {
            (IntegerKind.None, IntegerKind.None) => x.Equals(y),
            (IntegerKind.Small, IntegerKind.Small) => xSmall == ySmall,
            (IntegerKind.Big, IntegerKind.Big) => ToBigInteger(x) == ToBigInteger(y),

            // Every value that fits an Int128 is classified Small, so Small never equals Big; and a number never equals a non-number.
            _ => false,
        };
    }

    /// <summary>Returns a hash code that agrees with <see cref="Equals(object, object)"/>.</summary>
    /// <param name="obj">The id.</param>
    /// <returns>The hash code.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="obj"/> is <see langword="null"/>.</exception>
    public int GetHashCode(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return Classify(obj, out Int128 small) switch
        {
            // Hash like a long when the value fits one, so the common boxed-long id hashes as cheaply as possible.
            IntegerKind.Small => small >= long.MinValue && small <= long.MaxValue ? ((long)small).GetHashCode() : small.GetHashCode(),
            IntegerKind.Big => ToBigInteger(obj).GetHashCode(),
            _ => obj.GetHashCode(),
        };
    }

    private static IntegerKind Classify(object value, out Int128 small)
    {
        // Most ids are boxed longs (the default sequence number) or ints, so test those first.
        switch (value)
        {
            case long v: small = v; return IntegerKind.Small;
            case int v: small = v; return IntegerKind.Small;
            case uint v: small = v; return IntegerKind.Small;
            case ulong v: small = v; return IntegerKind.Small;
            case short v: small = v; return IntegerKind.Small;
            case ushort v: small = v; return IntegerKind.Small;
            case byte v: small = v; return IntegerKind.Small;
            case sbyte v: small = v; return IntegerKind.Small;
            case nint v: small = v; return IntegerKind.Small;
            case nuint v: small = v; return IntegerKind.Small;
            case Int128 v: small = v; return IntegerKind.Small;
            case UInt128 v:
                small = v <= (UInt128)Int128.MaxValue ? (Int128)v : default;
                return v <= (UInt128)Int128.MaxValue ? IntegerKind.Small : IntegerKind.Big;
            case BigInteger v:
                bool fits = v >= (BigInteger)Int128.MinValue && v <= (BigInteger)Int128.MaxValue;
                small = fits ? (Int128)v : default;
                return fits ? IntegerKind.Small : IntegerKind.Big;
            default:
                small = default;
                return IntegerKind.None;
        }
    }

    // Only called for values classified Big: a UInt128 above Int128.MaxValue or a BigInteger outside the Int128 range.
    private static BigInteger ToBigInteger(object value) => value is UInt128 u ? (BigInteger)u : (BigInteger)value;

    private enum IntegerKind
    {
        None,
        Small,
        Big,
    }
}
