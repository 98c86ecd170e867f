using CodeLm.Model.Hf;
using CodeLm.Tokenizer;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CodeLm.Model.Gguf;

/// <summary>
/// The tokenizer as llama.cpp's "gpt2" (byte-level BPE) vocabulary: token strings in byte-level form by id, their
/// types, merges by rank, the pre-tokenizer's name (<see cref="PreTokenizerNames"/>), special ids, and the fill-in-the-
/// middle ids llama.cpp has keys for. Tokens, types and merges come from tokenizer.json; the ids the model's tokenizer
/// resolves (end of text, the begin-of-text it wants first, FIM sentinels) from <see cref="CodeTokenizer"/>, as CodeLm
/// itself uses them; the ids only llama.cpp asks for (bos when none is added, pad, unk) as transformers finds them:
/// tokenizer_config.json's strings, else config.json's ids.
/// </summary>
internal sealed class GgufVocabulary
{
    public const string TokenizerJson = "tokenizer.json", TokenizerConfigJson = "tokenizer_config.json";

    /// <summary>llama.cpp's llama_token_type values.</summary>
    private const int Normal = 1, Control = 3, UserDefined = 4, Unused = 5;

    public required string Pre { get; init; }
    public required string[] Tokens { get; init; }
    public required int[] Types { get; init; }
    public required string[] Merges { get; init; }
    /// <summary>tokenizer.ggml.* id keys (bos_token_id, eos_token_id, padding_token_id, unknown_token_id, fim_*) → id.</summary>
    public required IReadOnlyDictionary<string, int> SpecialIds { get; init; }
    public required bool AddBos { get; init; }

    /// <summary>Reads the folder's tokenizer for a model with <paramref name="vocabRows"/> embedding rows (ids past the tokenizer's become unused pads).</summary>
    public static GgufVocabulary Read(string folder, int vocabRows)
    {
        var path = Path.Combine(folder, TokenizerJson);
        if (!File.Exists(path))
            throw UnsupportedModelException.ForGguf(folder, ModelPart.Tokenizer, "no tokenizer.json", ["a byte-level BPE tokenizer.json"]);
        var root = Parse(path) ?? throw new InvalidDataException($"'{path}' is empty.");
        var model = root["model"] as JsonObject ?? throw new InvalidDataException($"'{path}' has no model.");
        var modelType = model["type"]?.GetValue<string>();
        bool byteLevel = PreTokenizerNames.Signature(root["pre_tokenizer"]).Contains("ByteLevel", StringComparison.Ordinal)
                         && model["byte_fallback"]?.GetValue<bool>() != true;
        if (modelType != "BPE" || !byteLevel)
            throw UnsupportedModelException.ForGguf(folder, ModelPart.Tokenizer,
                $"a {modelType ?? "?"} model with pre_tokenizer {PreTokenizerNames.Signature(root["pre_tokenizer"])}" + (model["byte_fallback"]?.GetValue<bool>() == true ? " and byte_fallback" : ""),
                ["byte-level BPE (a ByteLevel pre-tokenizer, as GPT-2, StarCoder, Qwen2, DeepSeek-Coder and CodeLm use)"]);
        var pre = PreTokenizerNames.Find(root["pre_tokenizer"])
                  ?? throw UnsupportedModelException.ForGguf(folder, ModelPart.Tokenizer,
                      $"pre_tokenizer {PreTokenizerNames.Signature(root["pre_tokenizer"])}", PreTokenizerNames.Supported);

        // Ids: the BPE vocabulary, then added tokens (which may lie outside it), then pads up to the embedding's rows.
        var byId = new Dictionary<int, (string Text, int Type)>();
        foreach (var (token, id) in model["vocab"] as JsonObject ?? throw new InvalidDataException($"'{path}' has no model.vocab."))
            byId[id!.GetValue<int>()] = (token, Normal);
        foreach (var added in root["added_tokens"] as JsonArray ?? [])
        {
            int id = added!["id"]!.GetValue<int>();
            bool special = added["special"]?.GetValue<bool>() ?? false;
            // Added tokens are matched as raw text, not byte-level text: llama.cpp stores them as written.
            byId[id] = (added["content"]!.GetValue<string>(), special ? Control : UserDefined);
        }
        int count = Math.Max(vocabRows, byId.Count == 0 ? 0 : byId.Keys.Max() + 1);
        if (count > vocabRows)
            throw new InvalidDataException($"'{path}' has ids up to {count - 1}, but the model's embedding has {vocabRows} rows.");
        var tokens = new string[count];
        var types = new int[count];
        for (int i = 0; i < count; i++)
            (tokens[i], types[i]) = byId.TryGetValue(i, out var t) ? t : ($"[PAD{i}]", Unused);

        var merges = (model["merges"] as JsonArray ?? []).Select(m => m is JsonArray pair
            ? $"{pair[0]!.GetValue<string>()} {pair[1]!.GetValue<string>()}"
            : m!.GetValue<string>()).ToArray();

        // After the checks above: they say why llama.cpp cannot take a tokenizer, where loading it would only fail.
        var tokenizer = CodeTokenizer.Load(folder);
        var lookup = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++) lookup.TryAdd(tokens[i], i);
        var tokConfig = Parse(Path.Combine(folder, TokenizerConfigJson));
        var config = Parse(Path.Combine(folder, Checkpoint.ConfigFile));
        int? Named(string hfName) =>
            TokenText(tokConfig?[hfName + "_token"]) is { } text && lookup.TryGetValue(text, out var id) ? id
            : config?[hfName + "_token_id"] is JsonValue v && v.TryGetValue<int>(out var cid) && cid >= 0 && cid < count ? cid
            : null;

        var ids = new Dictionary<string, int>(); // in the order written
        void Put(string key, int? id) { if (id is int i) ids[key] = i; }
        Put("bos_token_id", tokenizer.BeginOfText ?? Named("bos"));
        Put("eos_token_id", tokenizer.EndOfText);
        Put("padding_token_id", Named("pad"));
        Put("unknown_token_id", Named("unk"));
        if (tokenizer.HasFim)
        {
            Put("fim_pre_token_id", tokenizer.FimPrefix);
            Put("fim_suf_token_id", tokenizer.FimSuffix);
            Put("fim_mid_token_id", tokenizer.FimMiddle);
        }
        if (tokenizer.HasFimPad) Put("fim_pad_token_id", tokenizer.FimPad);
        Put("fim_rep_token_id", tokenizer.RepoName);
        Put("fim_sep_token_id", tokenizer.FileSeparator);

        return new GgufVocabulary
        {
            Pre = pre, Tokens = tokens, Types = types, Merges = merges, SpecialIds = ids, AddBos = tokenizer.BeginOfText != null,
        };
    }

    public void AddTo(GgufWriter w)
    {
        w.Add("tokenizer.ggml.model", "gpt2");
        w.Add("tokenizer.ggml.pre", Pre);
        w.Add("tokenizer.ggml.tokens", Tokens);
        w.Add("tokenizer.ggml.token_type", Types);
        w.Add("tokenizer.ggml.merges", Merges);
        foreach (var (key, id) in SpecialIds) w.Add("tokenizer.ggml." + key, (uint)id);
        // Written either way: llama.cpp's default for a BPE vocabulary depends on the pre-tokenizer.
        w.Add("tokenizer.ggml.add_bos_token", AddBos);
        w.Add("tokenizer.ggml.add_eos_token", false);
    }

    private static string? TokenText(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonObject o => o["content"]?.GetValue<string>(),
        _ => null,
    };

    private static JsonNode? Parse(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonNode.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}"); }
    }
}
