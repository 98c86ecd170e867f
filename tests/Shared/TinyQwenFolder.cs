using System.Text.Json;

namespace CodeLm.Tests;

/// <summary>
/// A Hugging Face model folder as a user who downloaded one would have it: a tiny Qwen2-layout model written by the
/// independent Python writer (tests/CodeLm.Model.Tests/hf_tiny_models.py) with a Qwen2.5-Coder-layout tokenizer.json
/// trained by HF tokenizers itself (tests/node-ref/hf-train-family.js) on the shared corpus's requests repository, so FIM
/// and special tokens are the family's, not CodeLm's.
/// </summary>
public sealed class TinyQwenFolder : IDisposable
{
    private readonly TempDir tmp = new();
    public string Dir { get; }

    public TinyQwenFolder()
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
