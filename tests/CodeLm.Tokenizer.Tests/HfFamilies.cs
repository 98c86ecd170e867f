using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using CodeLm.Tests;

namespace CodeLm.Tokenizer.Tests;

/// <summary>
/// Small tokenizers in the layout of open code model families, trained once per run by HF tokenizers itself
/// (tests/node-ref/hf-train-family.js) on two real repos (cobra, MediatR) plus the hard texts of
/// <see cref="HfFamilyTests"/>, each trained when first asked for.
/// </summary>
public sealed class HfFamilies : IDisposable
{
    public static readonly string[] Names = ["gpt2", "starcoder", "qwen2", "deepseek"];

    private readonly string _root = Directory.CreateTempSubdirectory("codelm-hf-families-").FullName;
    private readonly ConcurrentDictionary<string, Lazy<(string Dir, CodeTokenizer Tokenizer)>> _trained = new();
    private readonly Lazy<string> _files;

    public HfFamilies()
    {
        _files = new(() =>
        {
            // Hard text repeated, so the vocabulary has merges inside pieces that only a faithful split keeps whole.
            var unicode = Path.Combine(_root, "unicode.txt");
            var hard = string.Join("\n", HfFamilyTests.HardTexts).Replace("\0", ""); // the trainer skips files with NUL
            File.WriteAllBytes(unicode, System.Text.Encoding.UTF8.GetBytes(string.Join("\n", Enumerable.Repeat(hard, 300)))); // lone surrogates → U+FFFD
            var list = Path.Combine(_root, "files.txt");
            File.WriteAllLines(list, CorpusRepos.FilePaths("cobra").Concat(CorpusRepos.FilePaths("MediatR")).Append(unicode));
            return list;
        });
    }

    /// <summary>The directory with the family's tokenizer.json and config files.</summary>
    public string Dir(string family) => Get(family).Dir;

    public CodeTokenizer Tokenizer(string family) => Get(family).Tokenizer;

    /// <summary>Added token content → id, as the family's tokenizer.json lists them (HF checked them on training).</summary>
    public IReadOnlyDictionary<string, int> AddedIds(string family) =>
        ((JsonArray)JsonNode.Parse(File.ReadAllText(Path.Combine(Dir(family), "tokenizer.json")))!["added_tokens"]!)
        .ToDictionary(t => t!["content"]!.GetValue<string>(), t => t!["id"]!.GetValue<int>());

    private (string Dir, CodeTokenizer Tokenizer) Get(string family) => _trained.GetOrAdd(family, f => new(() =>
    {
        var dir = Path.Combine(_root, f);
        var r = NodeRef.Node("hf-train-family.js", f, _files.Value, dir);
        Assert.True(r.ExitCode == 0, $"hf-train-family.js {f}: {r.Stderr}");
        return (dir, CodeTokenizer.Load(dir));
    })).Value;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class HfFamiliesCollection : ICollectionFixture<HfFamilies>
{
    public const string Name = "hf families";
}
