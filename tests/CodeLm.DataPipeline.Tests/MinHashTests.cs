using CodeLm.DataPipeline.Dedup;

namespace CodeLm.DataPipeline.Tests;

public class MinHashTests
{
    private static string Words(int start, int count) => string.Join(' ', Enumerable.Range(start, count).Select(i => $"w{i}"));

    [Fact]
    public void EstimatesJaccardOfShingleSets()
    {
        var h = new MinHasher();
        var a = new uint[256]; var b = new uint[256];
        // 1000 distinct words: 996 shingles each. Overlap of 600 words → shared shingles 596 of union 1396 → J ≈ 0.427.
        h.Compute(Words(0, 1000), a);
        h.Compute(Words(400, 1000), b);
        Assert.InRange(MinHasher.EstimateJaccard(a, b), 0.427 - 0.09, 0.427 + 0.09);
        h.Compute(Words(0, 1000), b);
        Assert.Equal(1.0, MinHasher.EstimateJaccard(a, b));
        h.Compute(Words(5000, 1000), b);
        Assert.InRange(MinHasher.EstimateJaccard(a, b), 0, 0.03);
    }

    [Fact]
    public void IgnoresCaseAndPunctuationBetweenWords()
    {
        var h = new MinHasher();
        var a = new uint[256]; var b = new uint[256];
        Assert.Equal(3, h.Compute("alpha beta gamma delta epsilon zeta eta", a));
        h.Compute("ALPHA(beta, gamma); delta.epsilon = zeta + eta", b);
        Assert.Equal(1.0, MinHasher.EstimateJaccard(a, b));
        Assert.Equal(0, h.Compute("  ;; ++ ", a));
        Assert.Equal(1, h.Compute("two words", a));
    }

    [Fact]
    public void FinderClustersOnlyVerifiedNearDuplicates()
    {
        var h = new MinHasher();
        var docs = new[]
        {
            Words(0, 400),                                  // 0: base
            Words(0, 380) + " changed tail words here x y", // 1: near-duplicate of 0 (J ≈ 0.93)
            Words(10_000, 400),                             // 2: unrelated
            Words(0, 200) + " " + Words(50_000, 200),       // 3: half of 0 (J ≈ 0.33): not a duplicate
            Words(10_000, 395),                             // 4: near-duplicate of 2
        };
        var sigs = new uint[docs.Length * 256];
        for (int i = 0; i < docs.Length; i++) h.Compute(docs[i], sigs.AsSpan(i * 256, 256));
        var r = NearDuplicateFinder.Find(sigs, [true, true, true, true, true], new DedupOptions());
        Assert.Equal(0, r.Clusters.Find(1));
        Assert.Equal(2, r.Clusters.Find(4));
        Assert.Equal(3, r.Clusters.Find(3));
        Assert.Equal(0, r.Clusters.Find(0));
        Assert.Equal(2, r.VerifiedPairs);
    }

    [Fact]
    public void ExactHashIgnoresWhitespaceLayout()
    {
        Assert.Equal(ExactHash.Compute("int  main()\n{\n\treturn 0;\n}\n"), ExactHash.Compute("int main() { return 0; }"));
        Assert.NotEqual(ExactHash.Compute("return 0;"), ExactHash.Compute("return 1;"));
    }

    [Fact]
    public void UnionFindRootIsSmallestMember()
    {
        var uf = new UnionFind(5);
        uf.Union(4, 2); uf.Union(2, 3); uf.Union(3, 1);
        Assert.Equal(1, uf.Find(4));
        Assert.Equal(0, uf.Find(0));
    }
}
