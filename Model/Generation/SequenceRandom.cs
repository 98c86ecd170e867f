namespace CodeLm.Model.Generation;

/// <summary>
/// A per-sample SplitMix64 stream: one uniform draw per decoding step. Kept on the host (not a torch generator) so the
/// same seed gives the same draws on CPU and CUDA and no tensor is allocated per step; a sample's draws do not depend on
/// which other samples share its batch.
/// </summary>
public sealed class SequenceRandom(long seed)
{
    private ulong _state = unchecked((ulong)seed);

    private ulong NextUInt64()
    {
        ulong z = unchecked(_state += 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>A uniform double strictly inside (0, 1).</summary>
    public double NextOpenUnit() => ((NextUInt64() >> 11) + 0.5) * (1.0 / (1UL << 53));
}
