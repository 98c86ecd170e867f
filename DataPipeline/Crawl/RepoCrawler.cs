using LibGit2Sharp;

namespace CodeLm.DataPipeline.Crawl;

/// <summary>
/// Clones (bare) or updates one repository in the cache and resolves the commit to read. A clone is made in a temp folder
/// inside the cache and renamed into place only when complete, so a killed run never leaves a half clone behind; a rerun
/// whose pinned commit is already cached does no network work at all.
/// </summary>
public static class RepoCrawler
{
    private const string TempPrefix = ".tmp-clone-";

    /// <summary>Removes clone folders left by a killed run.</summary>
    public static void RemoveStaleTemps(string cacheDir)
    {
        if (!Directory.Exists(cacheDir)) return;
        foreach (var d in Directory.GetDirectories(cacheDir, TempPrefix + "*"))
            TryDeleteDirectory(d);
    }

    public static CrawledRepo Crawl(RepoSource source, string cacheDir, string? token, CancellationToken ct)
    {
        var result = new CrawledRepo { Name = source.Name, Url = Secrets.StripUserInfo(source.Location), Ref = source.Ref, Status = CrawledRepo.Failed };
        try
        {
            return CrawlCore(source, cacheDir, token, result, ct);
        }
        catch (OperationCanceledException) { throw; }
        catch (Exception e) when (e is LibGit2SharpException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            if (ct.IsCancellationRequested) throw new OperationCanceledException(ct);
            return result with { Reason = Secrets.Scrub(Describe(e), [token, source.Location]) };
        }
    }

    private static string Describe(Exception e) => e switch
    {
        NotFoundException => "not found: " + e.Message,
        _ => e.Message.Trim(),
    };

    private static CrawledRepo CrawlCore(RepoSource source, string cacheDir, string? token, CrawledRepo result, CancellationToken ct)
    {
        var location = source.GitLocation;
        if (!source.IsRemote && ParquetDataset.IsDataset(location))
        {
            // Nothing to clone: the file itself is the snapshot, pinned by its hash; its rows carry their own licenses.
            if (!File.Exists(location)) return result with { Reason = "path not found" };
            try
            {
                var (layout, sha) = ParquetDataset.Describe(location);
                return result with { Status = CrawledRepo.Ok, Commit = "sha256:" + sha, License = CrawledRepo.PerRowLicense, Dataset = layout };
            }
            catch (InvalidDataException e) { return result with { Reason = e.Message }; }
        }
        if (!source.IsRemote)
        {
            if (!Directory.Exists(location)) return result with { Reason = "path not found" };
            if (!Repository.IsValid(location)) return result with { Reason = "not a git repository" };
        }
        Directory.CreateDirectory(cacheDir);
        var key = source.CacheKey;
        var cachePath = Path.Combine(cacheDir, key);
        result = result with { CacheKey = key };

        if (Directory.Exists(cachePath) && !Repository.IsValid(cachePath))
            TryDeleteDirectory(cachePath); // not ours or damaged: clone again
        if (!Directory.Exists(cachePath))
        {
            var temp = Path.Combine(cacheDir, TempPrefix + Guid.NewGuid().ToString("N"));
            try
            {
                Repository.Clone(location, temp, new CloneOptions(FetchOptions(source, token, ct)) { IsBare = true, RecurseSubmodules = false });
                ct.ThrowIfCancellationRequested();
                Directory.Move(temp, cachePath);
            }
            catch
            {
                TryDeleteDirectory(temp);
                throw;
            }
            return Resolve(cachePath, source, result, fetched: true, token, ct);
        }
        return Resolve(cachePath, source, result, fetched: false, token, ct);
    }

    private static CrawledRepo Resolve(string cachePath, RepoSource source, CrawledRepo result, bool fetched, string? token, CancellationToken ct)
    {
        using var repo = new Repository(cachePath);
        // A full commit sha already in the cache needs no network.
        if (source.Ref is { Length: 40 } sha && repo.Lookup<Commit>(sha) is { } pinned)
            return Finish(repo, pinned, result);
        if (!fetched)
        {
            var remote = repo.Network.Remotes["origin"] ?? throw new InvalidOperationException("cached clone has no origin remote");
            Commands.Fetch(repo, "origin", ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"], FetchOptions(source, token, ct), null);
            ct.ThrowIfCancellationRequested();
        }
        if (!repo.Refs.Any() && repo.Head.Tip == null)
            return result with { Status = CrawledRepo.Skipped, Reason = "empty repository (no commits)" };
        Commit? commit = source.Ref == null ? DefaultCommit(repo, source, token) : FindRef(repo, source.Ref);
        if (commit == null)
            return source.Ref == null
                ? result with { Status = CrawledRepo.Skipped, Reason = "empty repository (no commits)" }
                : result with { Reason = $"ref '{source.Ref}' not found" };
        return Finish(repo, commit, result);
    }

    private static Commit? DefaultCommit(Repository repo, RepoSource source, string? token)
    {
        // The remote's HEAD now; the clone's own HEAD is the fallback (and the answer right after cloning).
        try
        {
            var remote = repo.Network.Remotes["origin"];
            if (remote != null)
            {
                var credentials = Credentials(source, token);
                var refs = credentials == null ? repo.Network.ListReferences(remote) : repo.Network.ListReferences(remote, credentials);
                var head = refs.FirstOrDefault(r => r.CanonicalName == "HEAD");
                if (head?.ResolveToDirectReference()?.TargetIdentifier is { } id && repo.Lookup<Commit>(id) is { } c) return c;
            }
        }
        catch (LibGit2SharpException) { }
        return repo.Head.Tip;
    }

    private static Commit? FindRef(Repository repo, string r)
    {
        foreach (var name in new[] { "refs/remotes/origin/" + r, "refs/heads/" + r, "refs/tags/" + r, r })
        {
            var reference = repo.Refs[name];
            if (reference?.ResolveToDirectReference()?.Target is { } target)
                return target as Commit ?? (target as TagAnnotation)?.Target as Commit ?? repo.Lookup<Commit>(target.Id);
        }
        try { return repo.Lookup<Commit>(r); } catch (LibGit2SharpException) { return null; }
    }

    private static CrawledRepo Finish(Repository repo, Commit commit, CrawledRepo result)
    {
        // Reading the root tree and license fails early on a damaged object store.
        var licenses = new List<string>();
        foreach (var entry in commit.Tree)
            if (entry.TargetType == TreeEntryTargetType.Blob && LicenseDetector.IsLicenseFileName(entry.Name))
            {
                var blob = (Blob)entry.Target;
                if (blob.Size > 512_000) continue;
                licenses.Add(LicenseDetector.Classify(blob.GetContentText()));
            }
        return result with { Status = CrawledRepo.Ok, Commit = commit.Sha, License = LicenseDetector.Combine(licenses), Reason = null };
    }

    private static FetchOptions FetchOptions(RepoSource source, string? token, CancellationToken ct) => new()
    {
        CredentialsProvider = Credentials(source, token),
        OnTransferProgress = _ => !ct.IsCancellationRequested,
        OnProgress = _ => !ct.IsCancellationRequested,
        TagFetchMode = TagFetchMode.All,
    };

    private static LibGit2Sharp.Handlers.CredentialsHandler? Credentials(RepoSource source, string? token)
    {
        if (string.IsNullOrEmpty(token) || !source.Location.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) return null;
        var user = Environment.GetEnvironmentVariable(Secrets.UserVariable);
        return (_, fromUrl, _) => new UsernamePasswordCredentials { Username = fromUrl ?? (string.IsNullOrEmpty(user) ? "x-access-token" : user), Password = token };
    }

    internal static void TryDeleteDirectory(string path)
    {
        try
        {
            if (!Directory.Exists(path)) return;
            // git marks pack files read-only
            foreach (var f in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
                File.SetAttributes(f, FileAttributes.Normal);
            Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
