namespace CodeLm.Eval.Scoring;

/// <summary>
/// The unbiased pass@k estimator of Chen et al. (2021): 1 − C(n−c, k) / C(n, k), for n samples of which c passed,
/// computed as 1 − ∏_{i=n−c+1}^{n} (1 − k/i), which never forms the huge binomials.
/// </summary>
public static class PassAtK
{
    public static double Estimate(int n, int c, int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), "k must be at least 1");
        if (c < 0 || c > n) throw new ArgumentOutOfRangeException(nameof(c), $"c must be within 0..n (n={n}, c={c})");
        if (n < k) throw new ArgumentException($"pass@{k} needs at least {k} samples per problem, got {n}", nameof(n));
        if (n - c < k) return 1.0;
        var fail = 1.0;
        for (var i = n - c + 1; i <= n; i++) fail *= 1.0 - (double)k / i;
        return 1.0 - fail;
    }

    /// <summary>The mean over problems, each given as (n, c). Every problem must have n ≥ k.</summary>
    public static double Mean(IEnumerable<(int N, int C)> problems, int k)
    {
        var list = problems.ToList();
        if (list.Count == 0) throw new ArgumentException("no problems to average", nameof(problems));
        return list.Average(p => Estimate(p.N, p.C, k));
    }
}
