using CodeLm.Tests;

namespace CodeLm.DataPipeline.Tests;

/// <summary>Makes real git repositories with the git command line.</summary>
public static class GitFixture
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["GIT_AUTHOR_NAME"] = "Test", ["GIT_AUTHOR_EMAIL"] = "test@invalid", ["GIT_COMMITTER_NAME"] = "Test",
        ["GIT_COMMITTER_EMAIL"] = "test@invalid", ["GIT_AUTHOR_DATE"] = "2024-01-01T00:00:00Z", ["GIT_COMMITTER_DATE"] = "2024-01-01T00:00:00Z",
        ["GIT_CONFIG_NOSYSTEM"] = "1", ["HOME"] = Path.GetTempPath(),
    };

    public static string Git(string cwd, params string[] args)
    {
        var r = Proc.Run("git", ["-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always", .. args], cwd, env: Env);
        if (r.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {r.Stderr}");
        return r.Stdout.Trim();
    }

    /// <summary>Creates a working repository with the given files (text or bytes) committed; returns its path.</summary>
    public static string Create(string parent, string name, IReadOnlyDictionary<string, object> files, Action<string>? beforeCommit = null)
    {
        var dir = Path.Combine(parent, name);
        Directory.CreateDirectory(dir);
        Git(dir, "init", "-q");
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            if (content is byte[] b) File.WriteAllBytes(full, b); else File.WriteAllText(full, (string)content);
        }
        beforeCommit?.Invoke(dir);
        Git(dir, "add", "-A");
        Git(dir, "commit", "-q", "-m", "initial");
        return dir;
    }

    public static string Head(string repo) => Git(repo, "rev-parse", "HEAD");
}
