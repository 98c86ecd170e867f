using System.Security.Cryptography;
using System.Text;

namespace CodeLm.DataPipeline.Crawl;

/// <summary>
/// A repository to crawl: a URL (https, ssh, git, file) or a local path to a working repository or a bare one,
/// with an optional branch, tag or commit pin written <c>SOURCE#REF</c> (or <c>SOURCE REF</c> in a list file).
/// </summary>
public sealed record RepoSource(string Location, string? Ref = null)
{
    /// <summary>Parses <c>SOURCE</c>, <c>SOURCE#REF</c> or <c>SOURCE REF</c>.</summary>
    public static RepoSource Parse(string spec)
    {
        spec = spec.Trim();
        if (spec.Length == 0) throw new ArgumentException("empty repository source");
        var ws = spec.IndexOfAny([' ', '\t']);
        if (ws > 0) return new RepoSource(spec[..ws], NullIfEmpty(spec[ws..].Trim()));
        var hash = spec.LastIndexOf('#');
        if (hash > 0) return new RepoSource(spec[..hash], NullIfEmpty(spec[(hash + 1)..]));
        return new RepoSource(spec);
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    /// <summary>
    /// The repository that contains <paramref name="directory"/> (its working tree root, or the git directory of a bare
    /// repository), e.g. for a quickstart that crawls the project's own checkout offline. Null when there is none.
    /// </summary>
    public static RepoSource? ForEnclosingRepository(string directory)
    {
        var gitDir = LibGit2Sharp.Repository.Discover(Path.GetFullPath(directory));
        if (gitDir == null) return null;
        using var repo = new LibGit2Sharp.Repository(gitDir);
        var root = repo.Info.WorkingDirectory ?? repo.Info.Path;
        return new RepoSource(Path.TrimEndingDirectorySeparator(root));
    }

    /// <summary>Reads a list file: one source per line; blank lines and lines starting with '#' are ignored.</summary>
    public static IReadOnlyList<RepoSource> ReadList(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"repository list not found: {path}", path);
        return File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(Parse).ToList();
    }

    /// <summary>True for URLs (scheme:// or scp-like user@host:path); false for local paths.</summary>
    public bool IsRemote => Location.Contains("://", StringComparison.Ordinal) && !Location.StartsWith("file://", StringComparison.OrdinalIgnoreCase)
                            || IsScpLike(Location);

    private static bool IsScpLike(string s)
    {
        int at = s.IndexOf('@'), colon = s.IndexOf(':');
        return at > 0 && colon > at && !s.Contains("://", StringComparison.Ordinal);
    }

    /// <summary>The location to hand to git: local paths made absolute, file:// URLs turned into paths.</summary>
    public string GitLocation =>
        Location.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(Location).LocalPath
        : IsRemote ? Location : Path.GetFullPath(Location);

    /// <summary>The location with any user:password@ removed; the only form that is ever printed or stored.</summary>
    public string DisplayLocation => Secrets.StripUserInfo(Location) + (Ref != null ? "#" + Ref : "");

    /// <summary>The repository's name in the corpus: host/owner/repo for URLs, the directory name for local paths.</summary>
    public string Name
    {
        get
        {
            var loc = Secrets.StripUserInfo(Location).TrimEnd('/');
            if (IsRemote)
            {
                string hostPath;
                if (loc.Contains("://", StringComparison.Ordinal))
                {
                    var uri = new Uri(loc);
                    hostPath = uri.Host + uri.AbsolutePath;
                }
                else
                {
                    var afterAt = loc[(loc.IndexOf('@') + 1)..];
                    hostPath = afterAt.Replace(':', '/');
                }
                return TrimGit(hostPath.TrimEnd('/'));
            }
            var full = GitLocation.TrimEnd('/', Path.DirectorySeparatorChar);
            var name = Path.GetFileName(full);
            if (name == ".git") name = Path.GetFileName(Path.GetDirectoryName(full)!);
            return TrimGit(name);
        }
    }

    private static string TrimGit(string s) =>
        s.EndsWith(".git", StringComparison.OrdinalIgnoreCase) ? s[..^4] : s.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? s[..^8] : s;

    /// <summary>The clone's folder in the cache: a readable name plus a hash of the location, so distinct sources never collide.</summary>
    public string CacheKey
    {
        get
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Secrets.StripUserInfo(GitLocation))))[..12];
            var safe = new string(Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
            if (safe.Length > 60) safe = safe[^60..];
            return $"{safe}-{hash}.git";
        }
    }

    public override string ToString() => DisplayLocation;
}
