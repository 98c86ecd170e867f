using System.CommandLine;
using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Crawl;
using CodeLm.DataPipeline.Decontamination;
using CodeLm.DataPipeline.Dedup;
using Spectre.Console;

namespace CodeLm.Cli;

/// <summary>`codelm data crawl|clean|build`: parses options, calls <see cref="CorpusBuilder"/>, renders progress and the summary.</summary>
public static class CorpusCommands
{
    private sealed class Shared
    {
        // The library's defaults are the command's: one place to change them.
        private static readonly CorpusBuildOptions Defaults = new() { Sources = [], CacheDir = "", OutDir = "" };

        public readonly Argument<string[]> Sources = new("sources")
        {
            Description = "Repositories: URLs or local paths (working or bare repos), each optionally pinned as SOURCE#BRANCH|TAG|COMMIT.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        public readonly Option<string?> List = new("--list") { Description = "A file with one source per line (\"SOURCE [REF]\"; # starts a comment)." };
        public readonly Option<string> Cache = new("--cache") { Description = "Where bare clones are kept between runs.", DefaultValueFactory = _ => DefaultCache() };
        public readonly Option<string> Out = new("--out", "-o") { Description = "Corpus directory (manifest.json, train.parquet, validation.parquet, stats.json).", DefaultValueFactory = _ => "corpus" };
        public readonly Option<string[]> Licenses = new("--license") { Description = "Keep only repositories with one of these SPDX licenses (repeatable), e.g. MIT Apache-2.0.", AllowMultipleArgumentsPerToken = true };
        public readonly Option<string[]> Languages = new("--language") { Description = "Keep only these languages (repeatable), e.g. Python C#. Default: every detected language.", AllowMultipleArgumentsPerToken = true };
        public readonly Option<double> Validation = new("--validation-fraction") { Description = "Share of kept bytes for validation, by whole repositories.", DefaultValueFactory = _ => Defaults.ValidationFraction };
        public readonly Option<ulong> Seed = new("--seed") { Description = "Seeds the split and MinHash.", DefaultValueFactory = _ => Defaults.Seed };
        public readonly Option<long> MaxFileBytes = new("--max-file-bytes") { Description = "Drop larger files.", DefaultValueFactory = _ => Defaults.Cleaning.MaxFileBytes };
        public readonly Option<int> MaxLine = new("--max-line-length") { Description = "Drop files with a longer line.", DefaultValueFactory = _ => Defaults.Cleaning.MaxLineLength };
        public readonly Option<double> MaxMeanLine = new("--max-mean-line-length") { Description = "Drop files whose mean line is longer.", DefaultValueFactory = _ => Defaults.Cleaning.MaxMeanLineLength };
        public readonly Option<double> MinAlnum = new("--min-alphanumeric") { Description = "Drop files with a smaller alphanumeric fraction.", DefaultValueFactory = _ => Defaults.Cleaning.MinAlphanumericFraction };
        public readonly Option<double> Jaccard = new("--jaccard") { Description = "Near-duplicate Jaccard threshold (MinHash 256 permutations, LSH 25x10).", DefaultValueFactory = _ => Defaults.Dedup.JaccardThreshold };
        public readonly Option<bool> NoNear = new("--no-near-dedup") { Description = "Skip MinHash near-duplicate removal (exact dedup still runs)." };
        public readonly Option<bool> NoRedact = new("--no-redact") { Description = "Keep emails, IPs and secrets as they are." };
        public readonly Option<bool> NoCSharp = new("--no-csharp-check") { Description = "Do not drop C# files that Roslyn cannot parse." };
        public readonly Option<string[]> Decontaminate = new("--decontaminate") { Description = "Remove files holding a problem of these benchmarks (jsonl or jsonl.gz with prompt and solution fields, e.g. HumanEval.jsonl.gz, or a directory of them such as HumanEval-X). Recorded in stats.json and manifest.json.", AllowMultipleArgumentsPerToken = true };
        public readonly Option<int> DecontaminateNGram = new("--decontaminate-ngram") { Description = "Also remove files sharing this many consecutive code tokens with a problem (catches renamed copies); 0: whitespace-free substrings only.", DefaultValueFactory = _ => new DecontaminationOptions().NGram };
        public readonly Option<int> AllowFailures = new("--allow-failures") { Description = "How many sources may fail (clone, fetch, read) while the corpus is still written from the rest; more, or none readable, writes nothing and exits 1.", DefaultValueFactory = _ => Defaults.AllowedFailures };
        public readonly Option<int> Jobs = new("--jobs", "-j") { Description = "Worker threads.", DefaultValueFactory = _ => Defaults.Parallelism };
        public readonly Option<string> TokenEnv = new("--token-env") { Description = "Environment variable holding a token for private HTTPS repos (never logged).", DefaultValueFactory = _ => Defaults.TokenVariable };

        public void AddTo(Command cmd, bool crawl, bool clean)
        {
            if (crawl) { cmd.Add(Sources); cmd.Add(List); cmd.Add(Licenses); cmd.Add(TokenEnv); }
            cmd.Add(Cache); cmd.Add(Out); cmd.Add(Jobs);
            if (clean)
            {
                foreach (var o in new Option[] { Languages, Validation, Seed, MaxFileBytes, MaxLine, MaxMeanLine, MinAlnum, Jaccard, NoNear, NoRedact, NoCSharp, AllowFailures, Decontaminate, DecontaminateNGram })
                    cmd.Add(o);
            }
        }

        public CorpusBuildOptions Parse(ParseResult p, bool needSources, bool clean)
        {
            if (!clean) return ParseCrawl(p, needSources);
            var sources = (p.GetValue(Sources) ?? []).Select(RepoSource.Parse).ToList();
            if (p.GetValue(List) is { } list) sources.AddRange(RepoSource.ReadList(list));
            if (needSources && sources.Count == 0) throw new UserFacingException("no repositories given: pass URLs or paths, or --list FILE");
            var languages = p.GetValue(Languages);
            var licenses = p.GetValue(Licenses);
            return new CorpusBuildOptions
            {
                Sources = sources,
                CacheDir = p.GetValue(Cache)!,
                OutDir = p.GetValue(Out)!,
                LicenseAllowList = licenses is { Length: > 0 } ? licenses : null,
                ValidationFraction = p.GetValue(Validation),
                Seed = p.GetValue(Seed),
                AllowedFailures = Math.Max(0, p.GetValue(AllowFailures)),
                Decontamination = p.GetValue(Decontaminate) is { Length: > 0 } benchmarks
                    ? new DecontaminationOptions { Benchmarks = Benchmark.LoadAll(benchmarks), NGram = Math.Max(0, p.GetValue(DecontaminateNGram)) }
                    : null,
                Parallelism = Math.Max(1, p.GetValue(Jobs)),
                TokenVariable = p.GetValue(TokenEnv) ?? Secrets.DefaultTokenVariable,
                Cleaning = new CleaningOptions
                {
                    MaxFileBytes = p.GetValue(MaxFileBytes), MaxLineLength = p.GetValue(MaxLine), MaxMeanLineLength = p.GetValue(MaxMeanLine),
                    MinAlphanumericFraction = p.GetValue(MinAlnum), Redact = !p.GetValue(NoRedact), CheckCSharpSyntax = !p.GetValue(NoCSharp),
                    Languages = languages is { Length: > 0 } ? languages : null,
                },
                Dedup = new DedupOptions { JaccardThreshold = p.GetValue(Jaccard), Near = !p.GetValue(NoNear) },
            };
        }

        private CorpusBuildOptions ParseCrawl(ParseResult p, bool needSources)
        {
            var sources = (p.GetValue(Sources) ?? []).Select(RepoSource.Parse).ToList();
            if (p.GetValue(List) is { } list) sources.AddRange(RepoSource.ReadList(list));
            if (needSources && sources.Count == 0) throw new UserFacingException("no repositories given: pass URLs or paths, or --list FILE");
            var licenses = p.GetValue(Licenses);
            return new CorpusBuildOptions
            {
                Sources = sources, CacheDir = p.GetValue(Cache)!, OutDir = p.GetValue(Out)!,
                LicenseAllowList = licenses is { Length: > 0 } ? licenses : null,
                Parallelism = Math.Max(1, p.GetValue(Jobs)), TokenVariable = p.GetValue(TokenEnv) ?? Secrets.DefaultTokenVariable,
            };
        }
    }

    public static void AddTo(Command data)
    {
        var crawl = new Command("crawl", "Clone or update repositories into the cache and write manifest.json (commit, license, status of each).");
        var crawlOpts = new Shared();
        crawlOpts.AddTo(crawl, crawl: true, clean: false);
        crawl.SetAction(async (p, ct) =>
        {
            var o = crawlOpts.Parse(p, needSources: true, clean: false);
            var manifest = await WithProgress(progress => CorpusBuilder.CrawlAsync(o, progress, ct));
            PrintRepos(manifest.Repos.Select(r => (r.Name, r.Status, r.Commit, r.License, r.Reason)));
            Console.WriteLine($"manifest: {Path.Combine(o.OutDir, CorpusManifest.FileName)}");
            return manifest.Repos.Any(r => r.Status == CrawledRepo.Failed) ? ExitCodes.PartialFailure : ExitCodes.Ok;
        });

        var clean = new Command("clean", "Filter, deduplicate, redact and split the crawled repositories (from --out's manifest.json) into the Parquet corpus.");
        var cleanOpts = new Shared();
        cleanOpts.AddTo(clean, crawl: false, clean: true);
        clean.SetAction(async (p, ct) =>
        {
            var o = cleanOpts.Parse(p, needSources: false, clean: true);
            var stats = await WithProgress(progress => CorpusBuilder.CleanAsync(o, null, progress, ct));
            return Summarize(o, stats, CorpusManifest.Load(o.OutDir));
        });

        var build = new Command("build", "crawl + clean in one go: repositories in, language-tagged deduplicated corpus out. With --world-size and --work, as stages of ranks run by a local, Slurm or Kubernetes executor.");
        var buildOpts = new Shared();
        buildOpts.AddTo(build, crawl: true, clean: true);
        var staged = new StagedBuildCommands();
        staged.AddTo(build);
        build.SetAction(async (p, ct) =>
        {
            var o = buildOpts.Parse(p, needSources: true, clean: true);
            if (staged.IsStaged(p)) return await staged.RunAsync(p, o, (opts, stats) => Summarize(opts, stats, CorpusManifest.Load(opts.OutDir)), ct);
            var stats = await WithProgress(progress => CorpusBuilder.BuildAsync(o, progress, ct));
            return Summarize(o, stats, CorpusManifest.Load(o.OutDir));
        });

        // A rank of a staged build parses the recorded build arguments with the build command's own options.
        CorpusBuildOptions ParseBuild(string[] args) => buildOpts.Parse(build.Parse(args), needSources: true, clean: true);

        data.Add(crawl);
        data.Add(clean);
        data.Add(build);
        data.Add(StagedBuildCommands.StageCommand(ParseBuild));
    }

    private static string DefaultCache()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
        return Path.Combine(root, "codelm", "repos");
    }

    /// <summary>Runs the work with a bar per phase on a terminal, silently in a log.</summary>
    private static Task<T> WithProgress<T>(Func<IProgress<CorpusProgress>?, Task<T>> work) =>
        CliProgress.RunAsync(bars => work(bars.For<CorpusProgress>(Describe)));

    private static ProgressUpdate Describe(CorpusProgress p) => p.Phase switch
    {
        "crawl" => new("crawl", $"crawl  {p.ReposDone}/{p.ReposTotal} repos", p.ReposDone, p.ReposTotal),
        "scan" => new("scan", $"clean  {p.FilesDone}/{p.FilesTotal} files, {p.BytesDone / 1e6:F1}/{p.BytesTotal / 1e6:F1} MB", p.BytesDone, p.BytesTotal),
        "dedup" => new("dedup", "dedup", 1, 1),
        _ => new(p.Phase, $"write  {p.FilesDone}/{p.FilesTotal} rows", p.FilesDone, p.FilesTotal),
    };

    private static void PrintRepos(IEnumerable<(string Name, string Status, string? Commit, string License, string? Reason)> repos)
    {
        var table = new Table().AddColumns("repository", "status", "commit", "license", "reason");
        foreach (var r in repos)
            table.AddRow(Markup.Escape(r.Name), Markup.Escape(r.Status), Markup.Escape(r.Commit?[..12] ?? ""), Markup.Escape(r.License), Markup.Escape(r.Reason ?? ""));
        AnsiConsole.Write(table);
    }

    private static int Summarize(CorpusBuildOptions o, CorpusStats s, CorpusManifest manifest)
    {
        PrintRepos(manifest.Repos.Select(r =>
        {
            var st = s.PerRepo.GetValueOrDefault(r.Name);
            return (r.Name, st?.Status ?? r.Status, r.Commit, r.License, st?.Reason ?? r.Reason);
        }));
        var langs = new Table().AddColumns("language", "files", "MB", "train files", "validation files");
        foreach (var (name, l) in s.Languages.OrderByDescending(kv => kv.Value.Bytes))
            langs.AddRow(Markup.Escape(name), l.Files.ToString(), (l.Bytes / 1e6).ToString("F2"), l.TrainFiles.ToString(), l.ValidationFiles.ToString());
        langs.AddRow("[bold]total[/]", s.Kept.Files.ToString(), (s.Kept.Bytes / 1e6).ToString("F2"), s.Train.Files.ToString(), s.Validation.Files.ToString());
        AnsiConsole.Write(langs);
        var drops = new Table().AddColumns("dropped by", "files", "MB");
        foreach (var (reason, d) in s.Dropped.OrderByDescending(kv => kv.Value.Files))
            drops.AddRow(Markup.Escape(reason), d.Files.ToString(), (d.Bytes / 1e6).ToString("F2"));
        AnsiConsole.Write(drops);
        var red = string.Join(", ", s.Redactions.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value}"));
        Console.WriteLine($"input {s.Input.Files} files ({s.Input.Bytes / 1e6:F1} MB) -> kept {s.Kept.Files} files ({s.Kept.Bytes / 1e6:F1} MB); " +
                          $"duplicates: {s.Duplicates.ExactFiles} exact, {s.Duplicates.NearFiles} near in {s.Duplicates.NearClusters} clusters; " +
                          $"C# syntax errors: {s.CSharpSyntaxErrors}; redactions: {(red.Length == 0 ? "none" : red)}");
        if (s.Decontamination is { } decon)
            Console.WriteLine("decontaminated: " + string.Join(", ", decon.Benchmarks.Select(b => $"{b.Name} {b.DroppedFiles} files")));
        Console.WriteLine($"split by {s.SplitBy}: train {s.Train.Files} files from {s.Train.Repos.Count} repos, validation {s.Validation.Files} files from {s.Validation.Repos.Count} repos");
        if (s.Timings is { } t)
            Console.Error.WriteLine($"time: crawl {t.Crawl.TotalSeconds:F2}s, clean {t.Scan.TotalSeconds:F2}s, dedup {t.Dedup.TotalSeconds:F2}s, write {t.Write.TotalSeconds:F2}s");
        Console.WriteLine($"corpus: {Path.GetFullPath(o.OutDir)}");
        // Reaching here means the failures were within --allow-failures: say so, and succeed.
        if (s.Repos.Failed > 0)
            Console.Error.WriteLine($"warning: {s.Repos.Failed} of {s.Repos.Total} sources failed and were left out (--allow-failures {o.AllowedFailures}); see the table above");
        return ExitCodes.Ok;
    }
}
