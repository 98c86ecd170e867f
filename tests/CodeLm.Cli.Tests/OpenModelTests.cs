using System.Text.Json;
using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>A Hugging Face model folder (<see cref="TinyQwenFolder"/>) used as a checkpoint by every command.</summary>
public sealed class OpenModelTests : IClassFixture<TinyQwenFolder>
{
    private readonly TinyQwenFolder folder;

    public OpenModelTests(TinyQwenFolder folder) => this.folder = folder;

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
    public void Sample_runs_with_int8_or_float32_weights_and_refuses_other_precisions()
    {
        string[] Args(string precision) => ["sample", "--checkpoint", folder.Dir, "--prompt", "import os\ndef main(", "--max-new-tokens", "6",
            "--temperature", "0", "--device", "cpu", "--json", "--precision", precision];
        var int8 = CodeLmCli.Run(Args("int8"));
        var float32 = CodeLmCli.Run(Args("float32"));
        Assert.True(int8.ExitCode == 0, int8.Stderr);
        Assert.True(float32.ExitCode == 0, float32.Stderr);
        Assert.Contains("int8 steps, float32 prompts)", int8.Stderr);
        Assert.Contains("float32), loaded in", float32.Stderr);
        foreach (var r in new[] { int8, float32 })
        {
            using var json = JsonDocument.Parse(r.Stdout);
            Assert.InRange(json.RootElement.GetProperty("tokens").GetInt32(), 0, 6);
            Assert.Contains(json.RootElement.GetProperty("finish_reason").GetString(), new[] { "length", "eot" });
        }

        var bad = CodeLmCli.Run(Args("fp16"));
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("'fp16' not recognized", bad.Stderr);
        Assert.Contains("'float32'", bad.Stderr);
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
            "--temperature", "0", "--max-new-tokens", "16", "--k", "1", "--out", tmp.Path, "--precision", "int8");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("(int8 steps, float32 prompts)", r.Stderr);
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
}
