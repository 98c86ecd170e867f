using System.Text;
using CodeLm.Tests;

namespace CodeLm.Tokenizer.Tests;

/// <summary>Real source files: clones of the shared bare repos, checked out once per test run.</summary>
public static class CorpusRepos
{
    private static readonly string Root = Directory.CreateTempSubdirectory("codelm-tok-repos-").FullName;
    private static readonly Dictionary<string, IReadOnlyList<(string Path, string Text)>> Cache = [];

    /// <summary>Absolute paths of the files <see cref="TextFiles"/> returns (for tools that read files themselves).</summary>
    public static IReadOnlyList<string> FilePaths(string repo) =>
        TextFiles(repo).Select(f => System.IO.Path.Combine(Root, repo, f.Path)).ToList();

    /// <summary>Every text file (no NUL byte) of a shared repo, as (relative path, text).</summary>
    public static IReadOnlyList<(string Path, string Text)> TextFiles(string repo)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(repo, out var files)) return files;
            var dir = Path.Combine(Root, repo);
            var r = Proc.Run("git", ["clone", "--quiet", "--depth", "1", "file://" + TestPaths.SharedCorpus(repo), dir]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            var list = new List<(string, string)>();
            foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (f.Contains($"{Path.DirectorySeparatorChar}.git{Path.DirectorySeparatorChar}")) continue;
                var bytes = File.ReadAllBytes(f);
                if (bytes.AsSpan().Contains((byte)0)) continue;
                list.Add((Path.GetRelativePath(dir, f), Encoding.UTF8.GetString(bytes)));
            }
            return Cache[repo] = list;
        }
    }
}
