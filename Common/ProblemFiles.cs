namespace CodeLm.Common;

/// <summary>Problem files (HumanEval's jsonl layout), as a benchmark directory such as HumanEval-X's holds them.</summary>
public static class ProblemFiles
{
    /// <summary>The .jsonl and .jsonl.gz files directly in <paramref name="dir"/>, in ordinal order.</summary>
    public static IReadOnlyList<string> InDirectory(string dir) =>
        [.. Directory.GetFiles(dir).Where(f => f.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase))
                                   .Order(StringComparer.Ordinal)];
}
