using System.Diagnostics;
using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Crawl;
using LibGit2Sharp;

namespace CodeLm.Bench.Data;

/// <summary>
/// Clean + dedup throughput of the DataPipeline on the shared corpus and on the Python standard library, each repeat
/// measured against an anchor taken in the same run: the raw read of the same blobs from the same cached clones with the
/// same thread count. Reports wall MB/s, MB per CPU-second (robust to a loaded machine), the ratio to the anchor, and
/// peak memory per file.
/// </summary>
public static class DataBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int repeats = ArgInt(args, "--repeats", 5);
        int jobs = ArgInt(args, "--jobs", 2);
        var work = Path.GetFullPath(Arg(args, "--work") ?? Path.Combine(Path.GetTempPath(), "codelm-bench-data"));
        var root = FindRepoRoot();
        var datasets = new List<(string Name, List<RepoSource> Sources)>();
        var only = Arg(args, "--dataset");
        if (only is null or "shared")
            datasets.Add(("shared corpus (9 repos)", Directory.GetDirectories(Path.Combine(root, "..", "shared", "corpus"), "*.git").Order().Select(p => new RepoSource(p)).ToList()));
        if (only is null or "stdlib")
            datasets.Add(("python3 lib tree (stdlib + site-packages)", [new RepoSource(StdlibRepo(work))]));

        Console.WriteLine($"# DataPipeline clean+dedup benchmark: {repeats} repeats, {jobs} threads, {Environment.ProcessorCount} cores, load {LoadAverage()}");
        foreach (var (name, sources) in datasets)
        {
            var o = new CorpusBuildOptions { Sources = sources, CacheDir = Path.Combine(work, "cache"), OutDir = Path.Combine(work, "out-" + name.Split(' ')[0]), Parallelism = jobs };
            var manifest = await CorpusBuilder.CrawlAsync(o);
            CorpusStats? lastStats = null;
            long peakHeapDelta = 0;
            var rows = new List<(double Anchor, double Clean, double CleanCpu, double Ratio, long Bytes, int Files)>();
            long peakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
            for (int r = 0; r < repeats; r++)
            {
                var (anchorBytes, anchorSeconds) = RawRead(o, manifest, jobs);
                long peakHeap = 0;
                using var sampling = new CancellationTokenSource();
                var sampler = Task.Run(async () =>
                {
                    while (!sampling.IsCancellationRequested)
                    {
                        peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                        try { await Task.Delay(20, sampling.Token); } catch (OperationCanceledException) { }
                    }
                });
                GC.Collect();
                long heapBefore = GC.GetTotalMemory(true);
                var stats = lastStats = await CorpusBuilder.CleanAsync(o, manifest);
                sampling.Cancel();
                await sampler;
                peakHeapDelta = Math.Max(peakHeapDelta, peakHeap - heapBefore);
                var t = stats.Timings!;
                var cpu = t.ScanDedupCpu.TotalSeconds;
                double seconds = (t.Scan + t.Dedup).TotalSeconds;
                double mb = stats.ScannedBytes / 1e6;
                if (stats.ScannedBytes != anchorBytes) throw new InvalidOperationException($"anchor read {anchorBytes} bytes but the cleaner read {stats.ScannedBytes}");
                var row = (anchorBytes / 1e6 / anchorSeconds, mb / seconds, mb / cpu, (mb / seconds) / (anchorBytes / 1e6 / anchorSeconds), stats.ScannedBytes, (int)stats.ScannedFiles);
                rows.Add(row);
                Console.Error.WriteLine($"  {name} #{r + 1}: anchor {row.Item1:F1} MB/s, clean+dedup {row.Item2:F1} MB/s ({t.Scan.TotalSeconds:F2}s scan, {t.Dedup.TotalSeconds:F2}s dedup, {t.Write.TotalSeconds:F2}s write), {row.Item3:F1} MB/cpu-s, ratio {row.Item4:F3}");
            }
            var proc = Process.GetCurrentProcess();
            var last = rows[^1];
            Console.WriteLine();
            Console.WriteLine($"## {name}: {last.Files} files, {last.Bytes / 1e6:F1} MB read and cleaned (of {lastStats!.Input.Files} files, {lastStats.Input.Bytes / 1e6:F1} MB in the trees)");
            Console.WriteLine("| figure | median | min | max |");
            Console.WriteLine("|---|---|---|---|");
            Line("anchor: raw blob read (MB/s)", rows.Select(x => x.Anchor));
            Line("clean+dedup (MB/s, wall)", rows.Select(x => x.Clean));
            Line("clean+dedup (MB per CPU-second)", rows.Select(x => x.CleanCpu));
            Line("clean+dedup / anchor", rows.Select(x => x.Ratio));
            Console.WriteLine($"peak managed heap growth during clean {peakHeapDelta / 1e6:F0} MB (sampled every 20 ms, includes garbage not yet collected); " +
                              $"peak working set {proc.PeakWorkingSet64 / 1e6:F0} MB (before this dataset {peakBefore / 1e6:F0} MB); " +
                              $"MinHash state {256 * 4} B/file + ~{PerFileMetadata} B/file metadata = {(256 * 4 + PerFileMetadata) * (long)last.Files / 1e6:F1} MB for {last.Files} files");
        }
        return 0;
    }

    /// <summary>Approximate managed bytes per file besides the signature: CorpusFile records and the path string.</summary>
    private const int PerFileMetadata = 200;

    internal static void Line(string name, IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        Console.WriteLine($"| {name} | {v[v.Length / 2]:F2} | {v[0]:F2} | {v[^1]:F2} |");
    }

    /// <summary>The anchor: read every blob of the crawled commits (≤ 1 MB, as the cleaner would) with the same threads.</summary>
    internal static (long Bytes, double Seconds) RawRead(CorpusBuildOptions o, CorpusManifest manifest, int jobs)
    {
        var blobs = new List<(string Repo, ObjectId Id)>();
        bool Scanned(string path, long size) =>
            FileFilters.ByPath(path, size, o.Cleaning) == null && (LanguageDetector.FromPath(path) != null || !Path.HasExtension(path));
        foreach (var r in manifest.Repos.Where(r => r.Status == CrawledRepo.Ok))
        {
            var path = Path.Combine(o.CacheDir, r.CacheKey!);
            using var repo = new Repository(path);
            void Walk(Tree t, string prefix)
            {
                foreach (var e in t)
                    if (e.Mode == Mode.Directory) { if (!FileFilters.IsVendored(prefix + e.Name, o.Cleaning.VendoredDirectories)) Walk((Tree)e.Target, prefix + e.Name + "/"); }
                    else if (e.TargetType == TreeEntryTargetType.Blob && e.Mode != Mode.SymbolicLink &&
                             Scanned(prefix + e.Name, repo.ObjectDatabase.RetrieveObjectMetadata(e.Target.Id).Size)) blobs.Add((path, e.Target.Id));
            }
            Walk(repo.Lookup<Commit>(r.Commit).Tree, "");
        }
        long bytes = 0;
        // As codelm's scan reads them: one object-database read per blob (BlobReader), without libgit2 re-hashing each
        // object (git's own behaviour on read). LibGit2Sharp's Blob API reads each object three times.
        GlobalSettings.SetStrictHashVerification(false);
        var sw = Stopwatch.StartNew();
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, blobs.Count, 16), new ParallelOptions { MaxDegreeOfParallelism = jobs },
            () => (Open: new Dictionary<string, BlobReader>(), Buffer: new byte[1][]),
            (range, _, state) =>
            {
                for (int i = range.Item1; i < range.Item2; i++)
                {
                    if (!state.Open.TryGetValue(blobs[i].Repo, out var reader)) state.Open[blobs[i].Repo] = reader = new BlobReader(blobs[i].Repo);
                    var buffer = state.Buffer;
                    Interlocked.Add(ref bytes, reader.Read(blobs[i].Id, size => buffer[0] is { } b && b.Length >= size ? b : buffer[0] = new byte[size]).Length);
                }
                return state;
            },
            state => { foreach (var r in state.Open.Values) r.Dispose(); });
        return (bytes, sw.Elapsed.TotalSeconds);
    }

    /// <summary>A git repository of the installed Python library tree (stdlib + site-packages; no bytecode or native libraries), made once.</summary>
    internal static string StdlibRepo(string work)
    {
        var repo = Path.Combine(work, "python-lib");
        if (Directory.Exists(Path.Combine(repo, ".git"))) return repo;
        var psi = new ProcessStartInfo("python3", ["-c", "import sysconfig;print(sysconfig.get_paths()['stdlib'])"]) { RedirectStandardOutput = true };
        using (var p = Process.Start(psi)!) { var stdlib = p.StandardOutput.ReadToEnd().Trim(); p.WaitForExit(); Copy(stdlib, repo); }
        Git(repo, "init", "-q");
        Git(repo, "add", "-A");
        Git(repo, "-c", "user.name=bench", "-c", "user.email=bench@invalid", "-c", "gc.auto=0", "commit", "-q", "-m", "python lib snapshot");
        Git(repo, "gc", "-q");
        return repo;
    }

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }))
        {
            // site-packages is a vendored directory (the cleaner skips it); benchmark its sources under another name.
            var rel = Path.GetRelativePath(from, file).Replace("site-packages", "installed-packages");
            // Bytecode, native libraries and files over 1 MB would be dropped unread; leaving them out keeps `git add` quick.
            if (rel.Contains("__pycache__") || rel.EndsWith(".pyc") || rel.Contains(".so") || rel.EndsWith(".a") || new FileInfo(file).Length > 1_000_000) continue;
            var dest = Path.Combine(to, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest, overwrite: true);
        }
    }

    private static void Git(string cwd, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = cwd };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed");
    }

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    internal static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "CodeLm.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("run from inside the CodeLm checkout");
    }

    internal static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    internal static int ArgInt(string[] args, string name, int fallback) => Arg(args, name) is { } v ? int.Parse(v) : fallback;
}
