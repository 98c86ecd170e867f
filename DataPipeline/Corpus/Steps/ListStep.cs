using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Crawl;
using CodeLm.Common;
using LibGit2Sharp;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>A tree entry dropped by listing (path, size, symlink or submodule), so never read.</summary>
internal readonly record struct ListedDrop(int Repo, DropReason Reason, long Bytes);

/// <summary>What listing found: the files to scan in (repository name, path) order, the entries dropped on the way, and how
/// many repositories were listed.</summary>
internal sealed record Listing(List<CorpusFile> Files, List<ListedDrop> Drops, int Repos);

/// <summary>
/// Lists the files of every crawled repository from its cached clone, without reading any content. The (repository name,
/// path) order fixed here is the order of every later step and of the corpus files, so dedup keepers and the output do not
/// depend on thread timing.
/// </summary>
internal static class ListStep
{
    private static readonly Comparer<CorpusFile> ByPath = Comparer<CorpusFile>.Create((a, b) => string.CompareOrdinal(a.Path, b.Path));
    private static readonly Comparer<CorpusFile> ByRowRepoAndPath = Comparer<CorpusFile>.Create((a, b) =>
        string.CompareOrdinal(a.RowRepo, b.RowRepo) is var c && c != 0 ? c : string.CompareOrdinal(a.Path, b.Path));

    /// <summary>The crawled repositories to list, in name order: the order of every later step and of the corpus.</summary>
    public static List<int> Order(IReadOnlyList<CrawledRepo> repos) =>
        Enumerable.Range(0, repos.Count).Where(i => repos[i].Status == CrawledRepo.Ok).OrderBy(i => repos[i].Name, StringComparer.Ordinal).ToList();

    /// <param name="only">The repositories of one rank of a staged build (a contiguous run of <see cref="Order"/>); null: all.</param>
    public static Listing Run(CorpusRun run, IReadOnlyList<int>? only = null)
    {
        var repos = run.Repos;
        var order = only?.ToList() ?? Order(repos);
        // Repositories are listed concurrently, each into its own lists, and joined in order.
        var parts = new (List<CorpusFile> Files, List<ListedDrop> Drops)[order.Count];
        Parallel.For(0, order.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, run.Options.Parallelism), CancellationToken = run.Ct },
            k => ListRepo(run, order[k], parts[k] = ([], [])));
        var files = new List<CorpusFile>(parts.Sum(p => p.Files.Count));
        var drops = new List<ListedDrop>(parts.Sum(p => p.Drops.Count));
        foreach (var (f, d) in parts)
        {
            files.AddRange(f);
            drops.AddRange(d);
        }
        // A wrong cache directory must not replace a good corpus with an empty one.
        if (order.Count > 0 && order.All(run.HasFailed))
            throw new InvalidDataException("no crawled repository could be read, so the corpus was left as it was: " +
                                           string.Join("; ", order.Select(i => $"{repos[i].Name}: {run.FailureOf(i)}")));
        for (int i = 0; i < files.Count; i++) files[i].Row = i;
        return new Listing(files, drops, order.Count);
    }

    private static void ListRepo(CorpusRun run, int ri, (List<CorpusFile> Files, List<ListedDrop> Drops) into)
    {
        var (files, drops) = into;
        if (run.Repos[ri].Dataset != null) { ListDataset(run, ri, files, drops); return; }
        var path = run.CachePath(ri);
        if (!Directory.Exists(path))
        {
            run.Fail(ri, $"clone {run.Repos[ri].CacheKey} is not in the cache {run.Options.CacheDir}; crawl again with the same cache directory");
            return;
        }
        int start = files.Count, dropStart = drops.Count;
        try
        {
            using var repo = new Repository(path);
            RepoFiles.List(repo, run.Repos[ri].Commit!, ri, run.Options.Cleaning, files, (reason, bytes) => drops.Add(new(ri, reason, bytes)), run.Ct);
            files.Sort(start, files.Count - start, ByPath);
        }
        catch (Exception e) when (e is LibGit2SharpException or IOException or InvalidDataException or RepositoryNotFoundException)
        {
            // A repository is in the corpus whole or not at all.
            run.Fail(ri, "cannot read the cached clone: " + e.Message.Trim());
            files.RemoveRange(start, files.Count - start);
            drops.RemoveRange(dropStart, drops.Count - dropStart);
        }
    }

    /// <summary>
    /// A Parquet dataset's rows, through the same path filters as a clone's files, in (row repository, path) order. The
    /// dataset's language column is taken where the language table knows it; otherwise the path and content decide.
    /// </summary>
    private static void ListDataset(CorpusRun run, int ri, List<CorpusFile> files, List<ListedDrop> drops)
    {
        var o = run.Options.Cleaning;
        var languages = RepoFiles.Selected(o);
        int start = files.Count;
        try
        {
            foreach (var row in ParquetDataset.Read(run.Repos[ri].Url, run.Ct))
            {
                long size = row.Content.Length;
                var language = (row.Language is { } l ? LanguageTable.Find(l)?.Name : null) ?? LanguageDetector.FromPath(row.Path);
                // A clone's vendored directories are skipped whole while walking the tree; a row says its path at once.
                var reason = FileFilters.IsVendored(row.Path, o.VendoredDirectories) ? DropReason.Vendored : RepoFiles.Verdict(row.Path, size, language, o, languages);
                if (reason != null) { drops.Add(new(ri, reason.Value, size)); continue; }
                files.Add(new CorpusFile(ri, row.Path, ObjectId.Zero, size, language) { RowRepo = row.Repo, RowLicense = row.License, Inline = row.Content });
            }
            files.Sort(start, files.Count - start, ByRowRepoAndPath);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            run.Fail(ri, "cannot read the dataset: " + e.Message.Trim());
            files.RemoveRange(start, files.Count - start);
        }
    }
}
