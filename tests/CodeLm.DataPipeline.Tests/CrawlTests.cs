using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Crawl;
using CodeLm.Tests;

namespace CodeLm.DataPipeline.Tests;

public class CrawlTests
{
    private static CorpusBuildOptions Options(TempDir tmp, params RepoSource[] sources) =>
        new() { Sources = sources, CacheDir = tmp.File("cache"), OutDir = tmp.File("out"), Parallelism = 2 };

    [Fact]
    public async Task CrawlsSharedCorpusWithCommitsAndLicenses()
    {
        using var tmp = new TempDir();
        var names = new[] { "MediatR", "TorchSharp", "cobra", "express", "fmt", "gson", "requests", "ripgrep", "vscode-languageserver-node" };
        var manifest = await CorpusBuilder.CrawlAsync(Options(tmp, names.Select(n => new RepoSource(TestPaths.SharedCorpus(n))).ToArray()));
        var byName = manifest.Repos.ToDictionary(r => r.Name);
        Assert.Equal(names.Order(), byName.Keys.Order());
        foreach (var n in names)
        {
            Assert.True(byName[n].Status == CrawledRepo.Ok, n + ": " + byName[n].Reason);
            Assert.Equal(GitFixture.Git(TestPaths.SharedCorpus(n), "rev-parse", "HEAD"), byName[n].Commit);
        }
        Assert.Equal("MIT", byName["express"].License);
        Assert.Equal("Apache-2.0", byName["gson"].License);
        Assert.Equal("Apache-2.0", byName["cobra"].License);
        Assert.Equal("MIT OR Unlicense", byName["ripgrep"].License);
        Assert.Equal("MIT", byName["TorchSharp"].License);
        Assert.True(File.Exists(Path.Combine(tmp.File("out"), CorpusManifest.FileName)));
    }

    [Fact]
    public async Task WorkingBareWorktreeAndPinnedSourcesWork()
    {
        using var tmp = new TempDir();
        var work = GitFixture.Create(tmp.Path, "work", new Dictionary<string, object> { ["a.py"] = "print('one')\n", ["LICENSE"] = "MIT License\nPermission is hereby granted, free of charge, to any person obtaining a copy" });
        var first = GitFixture.Head(work);
        File.WriteAllText(Path.Combine(work, "a.py"), "print('two')\n");
        GitFixture.Git(work, "commit", "-qam", "second");
        GitFixture.Git(work, "tag", "v1");
        GitFixture.Git(work, "branch", "old", first);
        var second = GitFixture.Head(work);
        GitFixture.Git(tmp.Path, "clone", "-q", "--bare", work, Path.Combine(tmp.Path, "bare.git"));
        GitFixture.Git(work, "worktree", "add", "-q", Path.Combine(tmp.Path, "wt"), "old");

        var manifest = await CorpusBuilder.CrawlAsync(Options(tmp,
            new RepoSource(work), new RepoSource(Path.Combine(tmp.Path, "bare.git")), new RepoSource(Path.Combine(tmp.Path, "wt")),
            RepoSource.Parse(work + "#old"), RepoSource.Parse(work + "#" + first), RepoSource.Parse(work + " v1"), RepoSource.Parse("file://" + work + "#nope")));
        var r = manifest.Repos;
        Assert.All(r.Take(6), x => Assert.True(x.Status == CrawledRepo.Ok, x.Name + ": " + x.Reason));
        Assert.Equal(second, r[0].Commit);
        Assert.Equal("MIT", r[0].License);
        Assert.Equal(second, r[1].Commit);
        Assert.Equal("bare", r[1].Name);
        Assert.Equal(first, r[2].Commit);   // a worktree's HEAD (branch old)
        Assert.Equal(first, r[3].Commit);   // branch pin
        Assert.Equal(first, r[4].Commit);   // commit pin
        Assert.Equal(second, r[5].Commit);  // tag pin
        Assert.Equal(CrawledRepo.Failed, r[6].Status);
        Assert.Contains("nope", r[6].Reason);
        Assert.Equal(["work", "bare", "wt", "work~2", "work~3", "work~4", "work~5"], r.Select(x => x.Name));
    }

    [Fact]
    public async Task BadSourcesAreReportedAndTheRunGoesOn()
    {
        using var tmp = new TempDir();
        var good = GitFixture.Create(tmp.Path, "good", new Dictionary<string, object> { ["main.go"] = "package main\n\nfunc main() {}\n" });
        var plain = Directory.CreateDirectory(tmp.File("plain")).FullName;
        File.WriteAllText(Path.Combine(plain, "x.py"), "x = 1\n");
        var empty = tmp.File("empty");
        Directory.CreateDirectory(empty);
        GitFixture.Git(empty, "init", "-q");
        var corrupt = Corrupted(tmp);

        var options = Options(tmp, new RepoSource(good), new RepoSource(plain), new RepoSource(tmp.File("missing")), new RepoSource(empty),
                              new RepoSource("https://127.0.0.1:9/x.git"), new RepoSource(corrupt)) with { AllowedFailures = 4 };
        var stats = await CorpusBuilder.BuildAsync(options);
        var manifest = CorpusManifest.Load(options.OutDir);
        Assert.Equal(CrawledRepo.Ok, manifest.Repos[0].Status);
        Assert.Equal(("failed", "not a git repository"), (manifest.Repos[1].Status, manifest.Repos[1].Reason));
        Assert.Equal(("failed", "path not found"), (manifest.Repos[2].Status, manifest.Repos[2].Reason));
        Assert.Equal(CrawledRepo.Skipped, manifest.Repos[3].Status);
        Assert.Contains("empty", manifest.Repos[3].Reason);
        Assert.Equal(CrawledRepo.Failed, manifest.Repos[4].Status);
        Assert.False(string.IsNullOrEmpty(manifest.Repos[4].Reason));
        // The corrupted repository fails at clone or when its objects are read; either way it is reported and excluded.
        var corruptStats = stats.PerRepo["corrupt"];
        Assert.Equal(CrawledRepo.Failed, corruptStats.Status);
        Assert.Equal(0, corruptStats.KeptFiles);
        Assert.Equal(4, stats.Repos.Failed);
        Assert.Equal(1, stats.Repos.Skipped);
        Assert.Equal(1, stats.Repos.Ok);
        var rows = await ReadAll(Path.Combine(options.OutDir, CorpusFiles.Train));
        Assert.Equal(["good/main.go"], rows.Select(r => r.Repo + "/" + r.Path));
    }

    [Fact]
    public async Task No_readable_source_writes_nothing_and_keeps_the_previous_corpus()
    {
        using var tmp = new TempDir();
        var good = Options(tmp, new RepoSource(TestPaths.SharedCorpus("cobra")));
        await CorpusBuilder.BuildAsync(good);
        var before = Directory.GetFiles(good.OutDir).Order().ToDictionary(f => f, File.ReadAllBytes);

        var bad = Options(tmp, new RepoSource("https://example.invalid/x.git"));
        var e = await Assert.ThrowsAsync<SourceFailuresException>(() => CorpusBuilder.BuildAsync(bad));
        Assert.Equal((1, 0, 1), (e.Failed, e.Read, e.Total));
        Assert.StartsWith("none of the 1 sources could be used (example.invalid/x: ", e.Message);
        Assert.Equal(before.Keys, Directory.GetFiles(good.OutDir).Order());
        foreach (var (f, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(f));

        // A first build that fails leaves no directory behind.
        var fresh = bad with { OutDir = tmp.File("fresh") };
        await Assert.ThrowsAsync<SourceFailuresException>(() => CorpusBuilder.BuildAsync(fresh));
        Assert.False(Directory.Exists(fresh.OutDir));
    }

    [Fact]
    public async Task More_failures_than_allowed_write_nothing_and_as_many_as_allowed_write_the_rest()
    {
        using var tmp = new TempDir();
        var options = Options(tmp, new RepoSource(TestPaths.SharedCorpus("cobra")), new RepoSource(tmp.File("missing")), new RepoSource(tmp.File("gone")));
        var e = await Assert.ThrowsAsync<SourceFailuresException>(() => CorpusBuilder.BuildAsync(options with { AllowedFailures = 1 }));
        Assert.Equal((2, 1, 3, 1), (e.Failed, e.Read, e.Total, e.Allowed));
        Assert.Equal(["gone", "missing"], e.Failures.Select(f => f.Source).Order());
        Assert.False(Directory.Exists(options.OutDir));

        var stats = await CorpusBuilder.BuildAsync(options with { AllowedFailures = 2 });
        Assert.Equal((2, 1), (stats.Repos.Failed, stats.Repos.Ok));
        Assert.True(File.Exists(Path.Combine(options.OutDir, CorpusFiles.Train)));
    }

    /// <summary>A repository whose pack file is cut in half.</summary>
    internal static string Corrupted(TempDir tmp)
    {
        var files = Enumerable.Range(0, 40).ToDictionary(i => $"src/f{i}.py", i => (object)$"def f{i}(x):\n    return x * {i} + {i * i}\n# {Guid.NewGuid()}\n");
        var dir = GitFixture.Create(tmp.Path, "corrupt", files);
        GitFixture.Git(dir, "gc", "-q");
        var pack = Directory.GetFiles(Path.Combine(dir, ".git", "objects", "pack"), "*.pack").Single();
        File.SetAttributes(pack, FileAttributes.Normal);
        using (var fs = new FileStream(pack, FileMode.Open)) fs.SetLength(fs.Length / 2);
        return dir;
    }

    [Fact]
    public async Task TokenIsNeverWrittenOrReported()
    {
        using var tmp = new TempDir();
        const string variable = "CODELM_TEST_GIT_TOKEN";
        var token = "tok_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, token);
        try
        {
            var progress = new List<string>();
            var options = Options(tmp, new RepoSource("https://127.0.0.1:9/private/x.git"), new RepoSource($"https://user:{token}@127.0.0.1:9/y.git")) with { TokenVariable = variable };
            var e = await Assert.ThrowsAsync<SourceFailuresException>(() => CorpusBuilder.BuildAsync(options, new SyncProgress(p => progress.Add(p.ToString()))));
            Assert.Equal((2, 0), (e.Failed, e.Read));
            foreach (var f in Directory.GetFiles(tmp.Path, "*", SearchOption.AllDirectories))
                Assert.DoesNotContain(token, File.ReadAllText(f));
            Assert.DoesNotContain(progress, p => p.Contains(token));
            Assert.DoesNotContain(token, e.Message);
            // A failed build writes no manifest; the crawl alone records the URL, without the token.
            await CorpusBuilder.CrawlAsync(options);
            Assert.Equal("https://127.0.0.1:9/y.git", CorpusManifest.Load(options.OutDir).Repos[1].Url);
            Assert.DoesNotContain(token, File.ReadAllText(Path.Combine(options.OutDir, CorpusManifest.FileName)));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task TheProjectsOwnCheckoutIsASource()
    {
        using var tmp = new TempDir();
        var self = RepoSource.ForEnclosingRepository(Path.Combine(TestPaths.RepoRoot, "DataPipeline"));
        Assert.NotNull(self);
        Assert.Equal(Path.GetFullPath(TestPaths.RepoRoot), Path.GetFullPath(self.Location));
        Assert.Null(RepoSource.ForEnclosingRepository(tmp.Path));
        var manifest = await CorpusBuilder.CrawlAsync(Options(tmp, self));
        Assert.Equal(CrawledRepo.Ok, manifest.Repos[0].Status);
        Assert.Equal(GitFixture.Git(TestPaths.RepoRoot, "rev-parse", "HEAD"), manifest.Repos[0].Commit);
    }

    [Fact]
    public void SourcesParseAndHideCredentials()
    {
        var s = RepoSource.Parse("https://me:secret@github.com/owner/repo.git#v1.2");
        Assert.Equal("v1.2", s.Ref);
        Assert.Equal("github.com/owner/repo", s.Name);
        Assert.Equal("https://github.com/owner/repo.git#v1.2", s.DisplayLocation);
        Assert.True(s.IsRemote);
        Assert.Equal("github.com/owner/repo", RepoSource.Parse("git@github.com:owner/repo.git").Name);
        var local = RepoSource.Parse("../shared/corpus/cobra.git 0123abc");
        Assert.False(local.IsRemote);
        Assert.Equal(("cobra", "0123abc"), (local.Name, local.Ref));
        Assert.Equal("x failed for https://host/r.git: ***", Secrets.Scrub("x failed for https://u:tok@host/r.git: tok", ["tok"]));
    }

    internal static async Task<List<CorpusRecord>> ReadAll(string path)
    {
        var rows = new List<CorpusRecord>();
        await foreach (var r in CorpusFiles.ReadAsync(path)) rows.Add(r);
        return rows;
    }
}

/// <summary>An IProgress that calls back synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
public sealed class SyncProgress(Action<CorpusProgress> report) : IProgress<CorpusProgress>
{
    private readonly Lock _lock = new();
    public void Report(CorpusProgress value) { lock (_lock) report(value); }
}

public class CrawlThenCleanTests
{
    [Fact]
    public async Task CleanRunsFromTheManifestAndReportsAMissingCache()
    {
        using var tmp = new TempDir();
        var repo = GitFixture.Create(tmp.Path, "proj", new Dictionary<string, object>
        {
            ["app/main.py"] = "import sys\n\n\ndef main(argv):\n    print(len(argv))\n\n\nif __name__ == '__main__':\n    main(sys.argv)\n",
            ["app/util.ts"] = "export function twice(x: number): number {\n  return 2 * x;\n}\n",
        });
        var o = new CorpusBuildOptions { Sources = [new RepoSource(repo)], CacheDir = tmp.File("cache"), OutDir = tmp.File("out"), ValidationFraction = 0 };
        await CorpusBuilder.CrawlAsync(o);
        Assert.False(File.Exists(Path.Combine(o.OutDir, CorpusFiles.Train)));
        var stats = await CorpusBuilder.CleanAsync(o with { Sources = [] });
        Assert.Equal(2, stats.Kept.Files);
        Assert.Equal(0, stats.Validation.Files);
        var rows = await CrawlTests.ReadAll(Path.Combine(o.OutDir, CorpusFiles.Train));
        Assert.Equal(["Python", "TypeScript"], rows.Select(r => r.Language));

        var before = File.ReadAllBytes(Path.Combine(o.OutDir, CorpusFiles.Train));
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => CorpusBuilder.CleanAsync(o with { Sources = [], CacheDir = tmp.File("elsewhere") }));
        Assert.Contains("not in the cache", e.Message);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(o.OutDir, CorpusFiles.Train)));
    }
}
