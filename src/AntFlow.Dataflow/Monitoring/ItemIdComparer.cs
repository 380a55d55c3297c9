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

        // The default id is a boxed long and strings are the usual chosen ids: settle both before any classification.
        if (x is long xLong && y is long yLong)
        {
            return xLong == yLong;
        }

        if (x is string xString)
        {
            return y is string yString && string.Equals(xString, yString, StringComparison.Ordinal);
        }

        IntegerKind xKind = Classify(x, out long xValue);
        IntegerKind yKind = Classify(y, out long yValue);
        return (xKind, yKind) switch
        {
            (IntegerKind.None, IntegerKind.None) => x.Equals(y),
            (IntegerKind.Int64, IntegerKind.Int64) => xValue == yValue,
            (IntegerKind.Wide, IntegerKind.Wide) => ToBigInteger(x) == ToBigInteger(y),

            // A value that fits a long is always classified Int64, so Int64 never equals Wide; and a number never equals a non-number.
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
        if (obj is string text)
        {
            return text.GetHashCode(StringComparison.Ordinal);
        }

        return Classify(obj, out long value) switch
        {
            IntegerKind.Int64 => value.GetHashCode(),
            IntegerKind.Wide => ToBigInteger(obj).GetHashCode(),
            _ => obj.GetHashCode(),
        };
    }

    /// <summary>Says whether a value is an integral number, and gives it as a long when it fits one.</summary>
    private static IntegerKind Classify(object value, out long result)
    {
        // Most ids are boxed longs (the default sequence number) or ints, so test those first.
        switch (value)
        {
            case long v: result = v; return IntegerKind.Int64;
            case int v: result = v; return IntegerKind.Int64;
            case uint v: result = v; return IntegerKind.Int64;
            case short v: result = v; return IntegerKind.Int64;
            case ushort v: result = v; return IntegerKind.Int64;
            case byte v: result = v; return IntegerKind.Int64;
            case sbyte v: result = v; return IntegerKind.Int64;
            case nint v: result = v; return IntegerKind.Int64;
            case ulong v: return FromWide(v <= long.MaxValue, (long)v, out result);
            case nuint v: return FromWide(v <= long.MaxValue, (long)v, out result);
            case Int128 v: return FromWide(v >= long.MinValue && v <= long.MaxValue, (long)v, out result);
            case UInt128 v: return FromWide(v <= long.MaxValue, (long)v, out result);
            case BigInteger v:
                bool fits = v >= long.MinValue && v <= long.MaxValue;
                return FromWide(fits, fits ? (long)v : 0, out result); // BigInteger's cast throws when out of range
            default:
                result = 0;
                return IntegerKind.None;
        }
    }

    private static IntegerKind FromWide(bool fitsInt64, long truncated, out long result)
    {
        result = fitsInt64 ? truncated : 0;
        return fitsInt64 ? IntegerKind.Int64 : IntegerKind.Wide;
    }

    // Only called for values classified Wide, which are rare: conversion cost does not matter there.
    private static BigInteger ToBigInteger(object value) => value switch
    {
        ulong v => v,
        nuint v => v,
        Int128 v => v,
        UInt128 v => v,
        _ => (BigInteger)value,
    };

    private enum IntegerKind
    {
        None,
        Int64,
        Wide,
    }
}
