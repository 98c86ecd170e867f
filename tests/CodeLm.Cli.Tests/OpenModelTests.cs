using System.Text.Json;
using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>
/// A Hugging Face model folder used as a checkpoint by every command, as a user who downloaded one would: a tiny
/// Qwen2-layout model (written by the independent Python writer) with a Qwen2.5-Coder-layout tokenizer.json trained by HF
/// tokenizers itself (tests/node-ref/hf-train-family.js), so FIM and special tokens are the family's, not CodeLm's.
/// </summary>
public sealed class OpenModelTests : IClassFixture<OpenModelTests.QwenFolder>
{
    private readonly QwenFolder folder;

    public OpenModelTests(QwenFolder folder) => this.folder = folder;

    [Fact]
    public void Sample_completes_a_fill_in_the_middle_prompt_with_the_family_tokens()
    {
        var r = CodeLmCli.Run("sample", "--checkpoint", folder.Dir, "--prompt", "def add(a, b):\n", "--suffix", "\n    return c\n",
            "--max-new-tokens", "8", "--temperature", "0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("finish:", r.Stderr);
        Assert.DoesNotContain("<fim_", r.Stdout); // CodeLm's own sentinels never reach this model
    }

    [Fact]
    public void Export_writes_gguf_and_the_same_family_back()
    {
        using var tmp = new TempDir();
        var gguf = CodeLmCli.Run("export", "--checkpoint", folder.Dir, "--out", tmp.File("m.gguf"), "--format", "gguf", "--type", "q8_0");
        Assert.True(gguf.ExitCode == 0, gguf.Stderr);
        Assert.Contains("qwen2", gguf.Stdout);
        Assert.Equal("GGUF"u8.ToArray(), File.ReadAllBytes(tmp.File("m.gguf"))[..4]);

        var hf = CodeLmCli.Run("export", "--checkpoint", folder.Dir, "--out", tmp.File("hf"));
        Assert.True(hf.ExitCode == 0, hf.Stderr);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.File("hf"), "config.json")));
        Assert.Equal("qwen2", config.RootElement.GetProperty("model_type").GetString());
        Assert.True(File.Exists(Path.Combine(tmp.File("hf"), "tokenizer.json")));
    }

    [Fact]
    public void Eval_runs_humaneval_problems_with_it()
    {
        using var tmp = new TempDir();
        var r = CodeLmCli.Run("eval", "run", "--checkpoint", folder.Dir, "--problems", TestPaths.HumanEval, "--limit", "2", "-n", "1",
            "--temperature", "0", "--max-new-tokens", "16", "--k", "1", "--out", tmp.Path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(tmp.Path, "results.jsonl")).Length);
    }

    [Fact]
    public void An_unsupported_model_type_is_one_clear_error()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Path);
        File.WriteAllText(Path.Combine(tmp.Path, "config.json"), """{"model_type": "mamba", "architectures": ["MambaForCausalLM"]}""");
        File.Copy(Path.Combine(folder.Dir, "tokenizer.json"), Path.Combine(tmp.Path, "tokenizer.json"));
        var r = CodeLmCli.Run("sample", "--checkpoint", tmp.Path, "--prompt", "x");
        Assert.NotEqual(0, r.ExitCode);
        var lines = r.Stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains("mamba (MambaForCausalLM)", lines[0]);
        Assert.Contains("supported: llama, mistral, qwen2", lines[0]);
    }

    public sealed class QwenFolder : IDisposable
    {
        private readonly TempDir tmp = new();
        public string Dir { get; }

        public QwenFolder()
        {
            var src = tmp.File("src");
            Run("git", ["clone", "-q", Path.Combine(TestPaths.Shared, "corpus", "requests.git"), src]);
            var files = Directory.GetFiles(src, "*.py", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(40);
            File.WriteAllLines(tmp.File("files.txt"), files);
            var tokenizer = tmp.File("tok");
            Run("node", [Path.Combine(TestPaths.RepoRoot, "tests", "node-ref", "hf-train-family.js"), "qwen2", tmp.File("files.txt"), tokenizer]);
            int vocab = JsonDocument.Parse(File.ReadAllText(Path.Combine(tokenizer, "tokenizer.json"))).RootElement
                .GetProperty("added_tokens").EnumerateArray().Max(t => t.GetProperty("id").GetInt32()) + 1;
            Dir = tmp.File("qwen-tiny");
            Run("/usr/bin/python3", [Path.Combine(TestPaths.RepoRoot, "tests", "CodeLm.Model.Tests", "hf_tiny_models.py"), "write", "qwen2", Dir, (vocab + 64).ToString()]);
            foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" }) File.Copy(Path.Combine(tokenizer, f), Path.Combine(Dir, f));
        }

        private static void Run(string file, string[] args)
        {
            var r = Proc.Run(file, args);
            Assert.True(r.ExitCode == 0, $"{file} {string.Join(' ', args)}: {r.Stderr}");
        }

        public void Dispose() => tmp.Dispose();
    }
}
