using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;

namespace CodeLm.Tokenizer;

/// <summary>
/// Reads and writes a tokenizer directory: <c>tokenizer.json</c> (Hugging Face format: Split(our regex) + ByteLevel
/// pre-tokenizer, byte-level BPE model, ByteLevel decoder), <c>vocab.json</c> and <c>merges.txt</c> (GPT-2 format).
/// Token strings are byte-level strings (<see cref="ByteLevel"/>); specials are ids 0..4.
/// </summary>
public static class TokenizerFiles
{
    public const string TokenizerJson = "tokenizer.json", VocabJson = "vocab.json", MergesTxt = "merges.txt";

    /// <summary>Lets transformers' <c>AutoTokenizer.from_pretrained(dir)</c> (and so Megatron-LM / GPT-NeoX) load the directory.</summary>
    public const string TokenizerConfigJson = "tokenizer_config.json";

    /// <summary>Every file of a tokenizer directory (tokenizer.json last: it is written last and defines the hash).</summary>
    public static IReadOnlyList<string> AllFiles { get; } = [VocabJson, MergesTxt, TokenizerConfigJson, TokenizerJson];

    /// <summary>
    /// The files of a Hugging Face model folder that describe its tokenizer and special tokens (tokenizer.json last, as in
    /// <see cref="AllFiles"/>). config.json is left out: it describes the model, and a folder holding it reads as one.
    /// </summary>
    public static IReadOnlyList<string> ModelTokenizerFiles { get; } =
        [TokenizerConfigJson, "special_tokens_map.json", VocabJson, MergesTxt, "generation_config.json", TokenizerJson];

    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the three files; each atomically (temp file, then rename), tokenizer.json last.</summary>
    /// <param name="tokens">Token string by id: the 5 specials, the 256 byte tokens, then one per merge.</param>
    /// <param name="merges">Merged pairs in rank order, as byte-level strings.</param>
    /// <param name="split">The pre-tokenizer the vocabulary was trained with, written as its regex.</param>
    public static void Save(string directory, IReadOnlyList<string> tokens, IReadOnlyList<(string Left, string Right)> merges,
        SplitRule split = SplitRule.CodeLm)
    {
        Directory.CreateDirectory(directory);
        var vocab = new JsonObject();
        for (var id = 0; id < tokens.Count; id++) vocab[tokens[id]] = id;

        var merged = new StringBuilder("#version: 0.2\n");
        var mergeArray = new JsonArray();
        foreach (var (l, r) in merges)
        {
            merged.Append(l).Append(' ').Append(r).Append('\n');
            mergeArray.Add($"{l} {r}");
        }

        var added = new JsonArray();
        for (var id = 0; id < SpecialTokens.All.Count; id++)
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = SpecialTokens.All[id], ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });

        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = SplitRules.Pattern(split) },
                        ["behavior"] = "Isolated", ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false }),
            },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = mergeArray,
            },
        };

        AtomicFile.WriteAllBytes(Path.Combine(directory, VocabJson), Encoding.UTF8.GetBytes(vocab.ToJsonString(Pretty)));
        AtomicFile.WriteAllBytes(Path.Combine(directory, MergesTxt), Encoding.UTF8.GetBytes(merged.ToString()));
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["bos_token"] = SpecialTokens.EndOfText, ["eos_token"] = SpecialTokens.EndOfText, ["unk_token"] = null, ["pad_token"] = SpecialTokens.FimPad,
            ["additional_special_tokens"] = new JsonArray(SpecialTokens.FimPrefix, SpecialTokens.FimMiddle, SpecialTokens.FimSuffix, SpecialTokens.FimPad),
            ["add_prefix_space"] = false, ["clean_up_tokenization_spaces"] = false,
        };
        AtomicFile.WriteAllBytes(Path.Combine(directory, TokenizerConfigJson), Encoding.UTF8.GetBytes(config.ToJsonString(Pretty)));
        AtomicFile.WriteAllBytes(Path.Combine(directory, TokenizerJson), Encoding.UTF8.GetBytes(json.ToJsonString(Pretty)));
    }

    /// <summary>Token strings by id and merges by rank, read back from tokenizer.json (validated).</summary>
    public static (string[] Tokens, (string Left, string Right)[] Merges) Read(string tokenizerJsonPath)
    {
        var root = ParseJson(tokenizerJsonPath);
        if (!IsCodeLmLayout(root))
            throw new InvalidDataException($"'{tokenizerJsonPath}' was not written by CodeLm's BPE trainer: its pre-tokenizer is neither CodeLm's code split rule nor Qwen2's with CodeLm's special tokens.");
        return Read(root, tokenizerJsonPath);
    }

    /// <summary>tokenizer.json parsed (clear errors on a missing or malformed file).</summary>
    internal static JsonNode ParseJson(string tokenizerJsonPath)
    {
        if (!File.Exists(tokenizerJsonPath))
            throw new FileNotFoundException($"No tokenizer at '{tokenizerJsonPath}'. Train one with `codelm tokenizer train`.", tokenizerJsonPath);
        try { return JsonNode.Parse(File.ReadAllBytes(tokenizerJsonPath)) ?? throw new InvalidDataException($"'{tokenizerJsonPath}' is empty JSON."); }
        catch (JsonException e) { throw new InvalidDataException($"'{tokenizerJsonPath}' is not valid JSON: {e.Message}"); }
    }

    /// <summary>Whether tokenizer.json is CodeLm's own (written by <see cref="Save"/>), not a model's from Hugging Face.</summary>
    internal static bool IsCodeLmLayout(JsonNode root) => SplitRuleOf(root) != null;

    /// <summary>
    /// The split rule of a CodeLm tokenizer.json; null for any other. CodeLm's own regex says so by itself; Qwen2's is
    /// also a Qwen2.5-Coder model's, so there the file must also have CodeLm's five special tokens at ids 0..4.
    /// </summary>
    internal static SplitRule? SplitRuleOf(JsonNode root)
    {
        if (!(root["pre_tokenizer"] is JsonObject pre && pre["pretokenizers"] is JsonArray { Count: > 0 } steps
              && steps[0]?["pattern"]?["Regex"] is JsonValue v && v.TryGetValue<string>(out var pattern)))
            return null;
        var rule = SplitRules.Of(pattern);
        return rule == SplitRule.Qwen2 && !HasCodeLmSpecials(root) ? null : rule;
    }

    private static bool HasCodeLmSpecials(JsonNode root) =>
        root["added_tokens"] is JsonArray added && added.Count == SpecialTokens.All.Count
        && added.Select((t, i) => t?["id"]?.GetValue<int>() == i && t["content"]?.GetValue<string>() == SpecialTokens.All[i]).All(ok => ok);

    internal static (string[] Tokens, (string Left, string Right)[] Merges) Read(JsonNode root, string tokenizerJsonPath)
    {
        var model = root["model"] as JsonObject ?? throw new InvalidDataException($"'{tokenizerJsonPath}' has no model.");
        if (model["type"]?.GetValue<string>() != "BPE") throw new InvalidDataException($"'{tokenizerJsonPath}' is not a BPE tokenizer.");

        var vocab = model["vocab"] as JsonObject ?? throw new InvalidDataException($"'{tokenizerJsonPath}' has no model.vocab.");
        var tokens = new string[vocab.Count];
        foreach (var (token, idNode) in vocab)
        {
            var id = idNode!.GetValue<int>();
            if (id < 0 || id >= tokens.Length || tokens[id] != null)
                throw new InvalidDataException($"'{tokenizerJsonPath}': token ids must be 0..{tokens.Length - 1} without gaps; '{token}' has {id}.");
            tokens[id] = token;
        }
        for (var i = 0; i < SpecialTokens.All.Count; i++)
            if (tokens[i] != SpecialTokens.All[i])
                throw new InvalidDataException($"'{tokenizerJsonPath}': id {i} must be the special token {SpecialTokens.All[i]}, found '{tokens[i]}'.");

        var mergesNode = model["merges"] as JsonArray ?? throw new InvalidDataException($"'{tokenizerJsonPath}' has no model.merges.");
        var merges = new (string, string)[mergesNode.Count];
        for (var r = 0; r < merges.Length; r++)
        {
            var m = mergesNode[r];
            if (m is JsonArray pair && pair.Count == 2) merges[r] = (pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>());
            else
            {
                var s = m?.GetValue<string>() ?? "";
                var sp = s.IndexOf(' ');
                if (sp <= 0) throw new InvalidDataException($"'{tokenizerJsonPath}': merge {r} '{s}' is not 'left right'.");
                merges[r] = (s[..sp], s[(sp + 1)..]);
            }
        }
        return (tokens, merges);
    }

    /// <summary>sha256 (lower-case hex) of a file's bytes.</summary>
    public static string Sha256File(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }
}
