using System.Numerics;
using CsCheck;

namespace AntFlow.Dataflow.Tests.Monitoring;

[TestFixture]
public sealed class ItemIdComparerTests
{
    private static readonly ItemIdComparer Comparer = ItemIdComparer.Instance;

    private static IEnumerable<object> Threes()
    {
        yield return (sbyte)3;
        yield return (byte)3;
        yield return (short)3;
        yield return (ushort)3;
        yield return 3;
        yield return 3u;
        yield return 3L;
        yield return 3UL;
        yield return (nint)3;
        yield return (nuint)3;
        yield return (Int128)3;
        yield return (UInt128)3;
        yield return new BigInteger(3);
    }

    private static IEnumerable<TestCaseData> ThreePairs() =>
        from x in Threes()
        from y in Threes()
        select new TestCaseData(x, y).SetArgDisplayNames($"{x.GetType().Name}", $"{y.GetType().Name}");

    [TestCaseSource(nameof(ThreePairs))]
    public void Equals_SameValueAnyIntegralTypes_True(object x, object y)
    {
        Assert.That(Comparer.Equals(x, y), Is.True);
    }

    [TestCaseSource(nameof(ThreePairs))]
    public void GetHashCode_SameValueAnyIntegralTypes_Equal(object x, object y)
    {
        Assert.That(Comparer.GetHashCode(x), Is.EqualTo(Comparer.GetHashCode(y)));
    }

    [TestCaseSource(nameof(Threes))]
    public void Equals_DifferentValueOfAnyIntegralType_False(object three)
    {
        Assert.Multiple(() =>
        {
            Assert.That(Comparer.Equals(three, 4L), Is.False);
            Assert.That(Comparer.Equals(4, three), Is.False);
            Assert.That(Comparer.Equals(three, -3L), Is.False);
        });
    }

    [Test]
    public void Equals_NegativeSignedAndLargeUnsignedWithSameBits_False()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Comparer.Equals(-1L, ulong.MaxValue), Is.False);
            Assert.That(Comparer.Equals(-1, uint.MaxValue), Is.False);
            Assert.That(Comparer.Equals((sbyte)-1, byte.MaxValue), Is.False);
            Assert.That(Comparer.Equals(Int128.NegativeOne, UInt128.MaxValue), Is.False);
        });
    }

    [Test]
    public void Equals_ExtremeValuesAcrossTypes_ComparedNumerically()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Comparer.Equals(long.MinValue, (Int128)long.MinValue), Is.True);
            Assert.That(Comparer.Equals(ulong.MaxValue, (UInt128)ulong.MaxValue), Is.True);
            Assert.That(Comparer.Equals(ulong.MaxValue, new BigInteger(ulong.MaxValue)), Is.True);
            Assert.That(Comparer.GetHashCode(ulong.MaxValue), Is.EqualTo(Comparer.GetHashCode(new BigInteger(ulong.MaxValue))));
            Assert.That(Comparer.Equals(Int128.MaxValue, (UInt128)Int128.MaxValue), Is.True);
        });
    }

    [Test]
    public void Equals_ValuesBeyondInt128_ComparedAsBigIntegers()
    {
        var big = (BigInteger)UInt128.MaxValue;

        Assert.Multiple(() =>
        {
            Assert.That(Comparer.Equals(UInt128.MaxValue, big), Is.True);
            Assert.That(Comparer.GetHashCode(UInt128.MaxValue), Is.EqualTo(Comparer.GetHashCode(big)));
            Assert.That(Comparer.Equals(UInt128.MaxValue, big - 1), Is.False);
            Assert.That(Comparer.Equals(big * 2, big * 2), Is.True);
            Assert.That(Comparer.Equals(-big, Int128.MinValue), Is.False);
            Assert.That(Comparer.Equals(UInt128.MaxValue, -1L), Is.False);
        });
    }

    [Test]
    public void Equals_NonIntegralNumbersAgainstIntegers_False()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Comparer.Equals(3.0, 3L), Is.False);
            Assert.That(Comparer.Equals(3L, 3.0f), Is.False);
            Assert.That(Comparer.Equals(3m, 3), Is.False);
            Assert.That(Comparer.Equals('\u0003', 3), Is.False);
            Assert.That(Comparer.Equals(DayOfWeek.Monday, 1), Is.False);
            Assert.That(Comparer.Equals(1L, DayOfWeek.Monday), Is.False);
            Assert.That(Comparer.Equals(true, 1), Is.False);
        });
    }

    [Test]
    public void Equals_NonIntegralValues_UseTheirOwnEquals()
    {
        var guid = Guid.NewGuid();

        Assert.Multiple(() =>
        {
            Assert.That(Comparer.Equals(3.0, 3.0), Is.True);
            Assert.That(Comparer.Equals(3m, 3.00m), Is.True);
            Assert.That(Comparer.Equals(DayOfWeek.Monday, DayOfWeek.Monday), Is.True);
            Assert.That(Comparer.Equals(guid, new Guid(guid.ToString())), Is.True);
            Assert.That(Comparer.Equals(new OrderId("a", 1), new OrderId("a", 1)), Is.True);
            Assert.That(Comparer.Equals(new OrderId("a", 1), new OrderId("a", 2)), Is.False);
            Assert.That(Comparer.GetHashCode(new OrderId("a", 1)), Is.EqualTo(new OrderId("a", 1).GetHashCode()));
        });
    }

    [Test]
    public void Equals_Strings_OrdinalByValue()
    {
        string built = new(['i', 't', 'e', 'm']);

        Assert.Multiple(() =>
        {
            Assert.That(Comparer.Equals("item", built), Is.True);
            Assert.That(Comparer.GetHashCode("item"), Is.EqualTo(Comparer.GetHashCode(built)));
            Assert.That(Comparer.Equals("item", "Item"), Is.False);
            Assert.That(Comparer.Equals("3", 3), Is.False);
        });
    }

    [Test]
    public void Equals_NonIntegralTypeThatClaimsEqualityWithNumbers_FalseBothWays()
    {
        var greedy = new EqualsEverything();

        Assert.Multiple(() =>
        {
            Assert.That(Comparer.Equals(greedy, 3L), Is.False);
            Assert.That(Comparer.Equals(3L, greedy), Is.False);
        });
    }

    [Test]
    public void Equals_Nulls_EqualOnlyToEachOther()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Comparer.Equals(null, null), Is.True);
            Assert.That(Comparer.Equals(null, 0L), Is.False);
            Assert.That(Comparer.Equals(0L, null), Is.False);
        });
    }

    [Test]
    public void GetHashCode_Null_ThrowsArgumentNullException()
    {
        Assert.That(() => Comparer.GetHashCode(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("obj"));
    }

    [Test]
    public void Instance_AsDictionaryComparer_FindsLongKeyByInt()
    {
        var items = new Dictionary<object, string>(ItemIdComparer.Instance) { [0L] = "zero", [7L] = "seven", ["x"] = "text" };

        Assert.Multiple(() =>
        {
            Assert.That(items[0], Is.EqualTo("zero"));
            Assert.That(items[(byte)7], Is.EqualTo("seven"));
            Assert.That(items["x"], Is.EqualTo("text"));
            Assert.That(items.ContainsKey(7.0), Is.False);
        });
    }

    [Test]
    public void Equals_AnyLongAndItsConversions_EqualWithEqualHashes()
    {
        Gen.Long.Sample(value =>
        {
            foreach (object other in ConversionsOf(value))
            {
                if (!Comparer.Equals(value, other) || !Comparer.Equals(other, value) || Comparer.GetHashCode(other) != Comparer.GetHashCode(value))
                {
                    return false;
                }
            }

            return true;
        });
    }

    [Test]
    public void Equals_AnyTwoDifferentLongs_NotEqualInAnyType()
    {
        Gen.Select(Gen.Long, Gen.Long).Where((a, b) => a != b).Sample((a, b) =>
            ConversionsOf(a).All(x => ConversionsOf(b).All(y => !Comparer.Equals(x, y))));
    }

    private static IEnumerable<object> ConversionsOf(long value)
    {
        yield return value;
        yield return (Int128)value;
        yield return new BigInteger(value);
        yield return (nint)value;
        if (value >= 0)
        {
            yield return (ulong)value;
            yield return (UInt128)(ulong)value;
            yield return (nuint)(ulong)value;
        }

        if (value is >= int.MinValue and <= int.MaxValue)
        {
            yield return (int)value;
        }

        if (value is >= 0 and <= uint.MaxValue)
        {
            yield return (uint)value;
        }

        if (value is >= short.MinValue and <= short.MaxValue)
        {
            yield return (short)value;
        }

        if (value is >= 0 and <= ushort.MaxValue)
        {
            yield return (ushort)value;
        }

        if (value is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            yield return (sbyte)value;
        }

        if (value is >= 0 and <= byte.MaxValue)
        {
            yield return (byte)value;
        }
    }

    private sealed record OrderId(string Region, int Number);

    private sealed class EqualsEverything
    {
        public override bool Equals(object? obj) => obj is not null;

        public override int GetHashCode() => 0;
    }
}
