using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>`codelm data build` as a new user meets failing sources: it must not leave a corpus the next stage trains on.</summary>
public sealed class DataBuildFailureTests
{
    [Fact]
    public void An_unreachable_only_source_exits_nonzero_and_writes_no_corpus()
    {
        using var tmp = new TempDir();
        var r = CodeLmCli.Run(["data", "build", "https://example.invalid/x.git", "--out", tmp.File("corpus"), "--cache", tmp.File("cache")], cwd: null,
            env: new Dictionary<string, string> { ["CODELM_NATIVE_DATA"] = "0" });
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith("codelm data build: error: none of the 1 sources could be used (", line);
        Assert.False(Directory.Exists(tmp.File("corpus")));
    }

    [Fact]
    public void Some_failed_sources_say_how_many_and_allow_failures_tolerates_them()
    {
        using var tmp = new TempDir();
        string[] args = ["data", "build", TestPaths.SharedCorpus("cobra"), tmp.File("missing"), "--out", tmp.File("corpus"), "--cache", tmp.File("cache")];
        var env = new Dictionary<string, string> { ["CODELM_NATIVE_DATA"] = "0" };
        var refused = CodeLmCli.Run(args, cwd: null, env: env);
        Assert.Equal(ExitCodes.Failed, refused.ExitCode);
        var line = Assert.Single(refused.Stderr.Trim().Split('\n'));
        Assert.StartsWith("codelm data build: error: 1 of 2 sources failed (missing: path not found), more than the 0 tolerated; no corpus was written.", line);
        Assert.EndsWith("or pass --allow-failures 1 to write the corpus without them.", line);
        Assert.False(File.Exists(tmp.File("corpus/train.parquet")));

        var tolerated = CodeLmCli.Run([.. args, "--allow-failures", "1"], cwd: null, env: env);
        Assert.Equal(0, tolerated.ExitCode);
        Assert.Contains("warning: 1 of 2 sources failed and were left out (--allow-failures 1)", tolerated.Stderr);
        Assert.True(File.Exists(tmp.File("corpus/train.parquet")));
    }
}
