using System.Security.Cryptography;
using System.Text;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// Chooses the validation repositories: repositories in a seeded hash order are added to validation while that keeps it
/// within 1.5× the target share of kept bytes, until the target is reached. At least one repository goes to each split
/// when there are two or more. Whole repositories only, so no repository has files in both splits.
/// </summary>
public static class RepoSplitter
{
    public static HashSet<string> ChooseValidation(IReadOnlyDictionary<string, long> keptBytesByRepo, double fraction, ulong seed)
    {
        var validation = new HashSet<string>(StringComparer.Ordinal);
        var repos = keptBytesByRepo.Where(kv => kv.Value > 0).Select(kv => kv.Key).ToList();
        if (repos.Count < 2 || fraction <= 0) return validation;
        long total = repos.Sum(r => keptBytesByRepo[r]);
        double target = fraction * total;
        long chosen = 0;
        foreach (var repo in repos.OrderBy(r => Rank(r, seed)).ThenBy(r => r, StringComparer.Ordinal))
        {
            if (chosen >= target || validation.Count == repos.Count - 1) break;
            if (chosen + keptBytesByRepo[repo] <= 1.5 * target) { validation.Add(repo); chosen += keptBytesByRepo[repo]; }
        }
        if (validation.Count == 0)
            validation.Add(repos.OrderBy(r => keptBytesByRepo[r]).ThenBy(r => r, StringComparer.Ordinal).First());
        return validation;
    }

    /// <summary>Stable pseudo-random rank of a name (also used to split files when only one repository exists).</summary>
    public static ulong Rank(string name, ulong seed)
    {
        Span<byte> h = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}:{name}"), h);
        return BitConverter.ToUInt64(h);
    }
}
