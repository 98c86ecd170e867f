using System.Numerics;
using CodeLm.Eval.Scoring;

namespace CodeLm.Eval.Tests;

public sealed class PassAtKTests
{
    [Theory]
    [InlineData(10, 0, 1, 0.0)]          // c = 0
    [InlineData(10, 0, 10, 0.0)]
    [InlineData(10, 10, 1, 1.0)]         // c = n
    [InlineData(10, 10, 10, 1.0)]
    [InlineData(5, 2, 1, 0.4)]           // c/n
    [InlineData(5, 2, 2, 0.7)]           // 1 - C(3,2)/C(5,2) = 1 - 3/10
    [InlineData(5, 2, 4, 1.0)]           // n - c < k
    [InlineData(20, 3, 10, 1.0 - 19448.0 / 184756.0)] // 1 - C(17,10)/C(20,10)
    [InlineData(1, 1, 1, 1.0)]
    [InlineData(1, 0, 1, 0.0)]
    public void Matches_hand_computed_values(int n, int c, int k, double expected) =>
        Assert.Equal(expected, PassAtK.Estimate(n, c, k), 12);

    [Fact]
    public void Fewer_samples_than_k_is_an_error_not_a_number()
    {
        // The naive rule "n - c < k → 1" would wrongly give 1.0 here for a problem nothing passed.
        var e = Assert.Throws<ArgumentException>(() => PassAtK.Estimate(3, 0, 10));
        Assert.Contains("at least 10 samples", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => PassAtK.Estimate(3, 4, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PassAtK.Estimate(3, 1, 0));
    }

    [Fact]
    public void Stable_product_form_agrees_with_exact_binomials_for_large_n()
    {
        foreach (var (n, c, k) in new[] { (200, 100, 100), (200, 1, 100), (200, 7, 1), (500, 13, 100) })
        {
            var exact = 1.0 - (double)(Binomial(n - c, k) * 1_000_000_000_000 / Binomial(n, k)) / 1e12;
            Assert.Equal(exact, PassAtK.Estimate(n, c, k), 9);
        }
    }

    [Fact]
    public void Mean_averages_over_problems()
    {
        Assert.Equal((0.4 + 1.0 + 0.0) / 3, PassAtK.Mean([(5, 2), (5, 5), (5, 0)], 1), 12);
    }

    [Fact]
    public void Summary_reports_k_only_where_every_problem_has_enough_samples()
    {
        static ProblemResult R(string id, int n, int c) => new(id, "Python", n, c, "h",
            Enumerable.Range(0, n).Select(i => new SampleResult(i, i < c ? "passed" : "failed", 0, 1, null)).ToList());
        var summary = EvalSummary.Compute([R("a", 10, 3), R("b", 5, 5), R("c", 10, 0)], [1, 5, 10],
            new Dictionary<string, string>(), []);
        var row = Assert.Single(summary.Languages);
        Assert.Equal((0.3 + 1.0 + 0.0) / 3, row.PassAtK["pass@1"], 12);
        Assert.Equal((PassAtK.Estimate(10, 3, 5) + 1.0 + 0.0) / 3, row.PassAtK["pass@5"], 12);
        Assert.False(row.PassAtK.ContainsKey("pass@10"));
        Assert.Contains("pass@10 omitted", row.Note);
        Assert.Equal(8, row.Statuses["passed"]);
        Assert.Contains("pass@10", summary.ToTable());
    }

    private static BigInteger Binomial(int n, int k)
    {
        if (k < 0 || k > n) return BigInteger.Zero;
        BigInteger r = BigInteger.One;
        for (var i = 1; i <= k; i++) r = r * (n - k + i) / i;
        return r;
    }
}
