using System.Runtime.InteropServices;

namespace CodeLm.DataPipeline.Dedup;

/// <summary>Near-duplicate parameters: MinHash over 5-word shingles, 256 permutations, LSH 25 bands × 10 rows, Jaccard 0.7.</summary>
public sealed record DedupOptions
{
    public bool Exact { get; init; } = true;
    public bool Near { get; init; } = true;
    public int ShingleSize { get; init; } = 5;
    public int Permutations { get; init; } = 256;
    public int Bands { get; init; } = 25;
    public int Rows { get; init; } = 10;
    public double JaccardThreshold { get; init; } = 0.7;
    /// <summary>Most earlier bucket members a file is verified against per band (bounds the cost of huge buckets).</summary>
    public int MaxBucketChecks { get; init; } = 64;
}

/// <summary>
/// Clusters near-duplicate files. Files that share any LSH band become candidates; a candidate pair is joined only when
/// the estimated Jaccard similarity of the full signatures reaches the threshold. Bands are processed one at a time so
/// the index needs memory for one band only. The keeper of each cluster is its smallest index.
/// </summary>
public static class NearDuplicateFinder
{
    public sealed record Result(UnionFind Clusters, long CandidatePairs, long VerifiedPairs);

    /// <param name="signatures">n × permutations values, row-major.</param>
    /// <param name="eligible">Files that take part (kept so far and with at least one shingle).</param>
    /// <param name="bandKeys">Each file's key in a band, computed elsewhere (a staged build's buckets stage); null: computed here.</param>
    public static Result Find(ReadOnlySpan<uint> signatures, IReadOnlyList<bool> eligible, DedupOptions o, CancellationToken ct = default,
                              Func<int, ulong[]>? bandKeys = null)
    {
        int p = o.Permutations;
        if (o.Bands * o.Rows > p) throw new ArgumentException($"{o.Bands} bands × {o.Rows} rows need more than {p} permutations");
        int n = eligible.Count;
        if (signatures.Length != (long)n * p) throw new ArgumentException("signature array does not match the file count");
        var uf = new UnionFind(n);
        long candidates = 0, verified = 0;
        var buckets = new Dictionary<ulong, List<int>>();
        for (int band = 0; band < o.Bands; band++)
        {
            ct.ThrowIfCancellationRequested();
            buckets.Clear();
            var keys = bandKeys?.Invoke(band);
            for (int i = 0; i < n; i++)
            {
                if (!eligible[i]) continue;
                var sig = signatures.Slice(i * p, p);
                ulong key = keys != null ? keys[i] : BandKey(sig.Slice(band * o.Rows, o.Rows), band);
                ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(buckets, key, out bool exists);
                if (!exists) { list = [i]; continue; }
                int checks = 0;
                foreach (var j in list!)
                {
                    if (checks >= o.MaxBucketChecks) break;
                    if (uf.Find(i) == uf.Find(j)) continue;
                    checks++;
                    candidates++;
                    if (MinHasher.EstimateJaccard(sig, signatures.Slice(j * p, p)) >= o.JaccardThreshold)
                    {
                        verified++;
                        uf.Union(i, j);
                    }
                }
                list.Add(i);
            }
        }
        return new Result(uf, candidates, verified);
    }

    /// <summary>Every file's key in <paramref name="band"/>: what a staged build's buckets stage computes per band range.</summary>
    public static ulong[] BandKeys(ReadOnlySpan<uint> signatures, int files, int band, DedupOptions o)
    {
        var keys = new ulong[files];
        for (int i = 0; i < files; i++) keys[i] = BandKey(signatures.Slice(i * o.Permutations + band * o.Rows, o.Rows), band);
        return keys;
    }

    private static ulong BandKey(ReadOnlySpan<uint> rows, int band)
    {
        ulong h = 0x84222325CBF29CE4UL ^ (ulong)band;
        foreach (var r in rows)
        {
            h = (h ^ r) * 0x100000001B3;
            h ^= h >> 29;
        }
        return h;
    }
}
