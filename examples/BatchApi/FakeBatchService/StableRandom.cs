namespace FakeBatchService;

/// <summary>
/// Random numbers that depend only on the seed and what they are for (a batch, a call number), never on the order
/// in which concurrent requests arrive: the same seed fails the same calls in every run.
/// </summary>
internal static class StableRandom
{
    /// <summary>A number in [0, 1) for this seed, purpose, key and index.</summary>
    public static double Unit(int seed, string purpose, string key, long index)
    {
        ulong hash = Mix((ulong)(uint)seed ^ 0x9E3779B97F4A7C15UL);
        hash = Mix(hash ^ Fnv(purpose));
        hash = Mix(hash ^ Fnv(key));
        hash = Mix(hash ^ (ulong)index);

        // 53 random bits make an evenly spread double in [0, 1).
        return (hash >> 11) * (1.0 / (1UL << 53));
    }

    private static ulong Fnv(string text)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 0x100000001B3UL;
        }

        return hash;
    }

    // SplitMix64's finaliser: every input bit affects every output bit.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
