using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>
/// The Native AOT build of the corpus commands (DataCli, `codelm-data`), published for real, behind the real `codelm`:
/// it must be used when named, and must write exactly the corpus the JIT-compiled commands write.
/// </summary>
public sealed class NativeDataCommandTests(NativeDataBinary native) : IClassFixture<NativeDataBinary>
{
    [Fact]
    public void Codelm_hands_data_build_to_codelm_data_and_the_corpus_is_byte_identical()
    {
        using var tmp = new TempDir();
        string[] sources = [TestPaths.SharedCorpus("MediatR"), TestPaths.SharedCorpus("cobra")];
        var viaNative = Build(tmp, sources, "native", native.Path);
        var inProcess = Build(tmp, sources, "jit", "0");

        Assert.Contains($"codelm: running `data build` as {native.Path}", viaNative.Stderr);
        Assert.DoesNotContain("codelm: running", inProcess.Stderr);
        foreach (var file in new[] { "train.parquet", "validation.parquet", "stats.json", "manifest.json" })
            Assert.Equal(File.ReadAllBytes(tmp.File($"jit/{file}")), File.ReadAllBytes(tmp.File($"native/{file}")));
        // The C# check ran in the AOT binary too: MediatR's C# is in the corpus.
        Assert.Contains("\"C#\": {", File.ReadAllText(tmp.File("native/stats.json")));
    }

    [Theory]
    [InlineData("clean")]     // no manifest: a missing input file
    [InlineData("build")]     // an option out of range
    public void Errors_are_worded_as_codelm_words_them(string command)
    {
        using var tmp = new TempDir();
        string[] args = command == "clean"
            ? ["data", "clean", "--out", tmp.File("out")]
            : ["data", "build", TestPaths.SharedCorpus("cobra"), "--jaccard", "3", "--out", tmp.File("out"), "--cache", tmp.File("cache")];
        var r = CodeLmCli.Run(args, cwd: null, env: new Dictionary<string, string> { ["CODELM_NATIVE_DATA"] = native.Path });
        var jit = CodeLmCli.Run(args, cwd: null, env: new Dictionary<string, string> { ["CODELM_NATIVE_DATA"] = "0" });
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
        Assert.Equal(jit.ExitCode, r.ExitCode);
        Assert.StartsWith($"codelm data {command}: error: ", r.Stderr);
        Assert.Equal(jit.Stderr, r.Stderr);
        Assert.False(File.Exists(tmp.File("out/train.parquet")));
    }

    [Fact]
    public void A_variable_naming_a_missing_binary_is_one_clear_error()
    {
        using var tmp = new TempDir();
        var r = CodeLmCli.Run(["data", "build", TestPaths.SharedCorpus("cobra"), "--out", tmp.File("out")], cwd: null,
            env: new Dictionary<string, string> { ["CODELM_NATIVE_DATA"] = tmp.File("nothing-here") });
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith("codelm data build: error: CODELM_NATIVE_DATA=", line);
        Assert.Contains("-p:NativeData=true", line);
        Assert.False(Directory.Exists(tmp.File("out")));
    }

    private static Proc.Result Build(TempDir tmp, string[] sources, string name, string nativeData)
    {
        var env = new Dictionary<string, string> { ["CODELM_NATIVE_DATA"] = nativeData, ["CODELM_DEBUG"] = "1" };
        var r = CodeLmCli.Run(["data", "build", .. sources, "--cache", tmp.File("cache-" + name), "--out", tmp.File(name)], cwd: null, env: env);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r;
    }
}

/// <summary>codelm-data published once per test run with Native AOT, as `-p:NativeData=true` builds it.</summary>
public sealed class NativeDataBinary : IDisposable
{
    private readonly TempDir _dir = new();
    public string Path { get; }

    public NativeDataBinary()
    {
        var project = System.IO.Path.Combine(TestPaths.RepoRoot, "DataCli", "CodeLm.DataCli.csproj");
        var r = Proc.Run("dotnet", ["publish", project, "-c", "Release", "-r", "linux-x64", "-o", _dir.Path, "-nologo"], null, 900_000);
        if (r.ExitCode != 0) throw new InvalidOperationException($"publishing codelm-data failed:\n{r.Stdout}\n{r.Stderr}");
        Path = _dir.File("codelm-data");
    }

    public void Dispose() => _dir.Dispose();
}
