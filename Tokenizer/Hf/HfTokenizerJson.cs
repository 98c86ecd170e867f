using System.Text;
using System.Text.Json.Nodes;

namespace CodeLm.Tokenizer.Hf;

/// <summary>
/// What CodeLm takes from a Hugging Face tokenizer.json (byte-level BPE only), read with HF tokenizers' rules where
/// they matter for ids: merges as "a b" or [a, b] (a later duplicate pair wins), and added tokens numbered the way HF
/// numbers them on load (a token already in the vocabulary keeps that id; the others follow the vocabulary's size in
/// file order), not by the "id" written beside them.
/// </summary>
internal sealed class HfTokenizerJson
{
    public required Dictionary<string, int> Vocab { get; init; }
    public required List<(string Left, string Right)> Merges { get; init; }
    public bool IgnoreMerges { get; init; }
    public string? UnkToken { get; init; }
    public bool FuseUnk { get; init; }
    public required List<AddedToken> AddedTokens { get; init; }
    public required TextNormalizer Normalizer { get; init; }
    public required PreTokenizerChain PreTokenizer { get; init; }

    /// <summary>Ids the post-processor puts before a single sequence (TemplateProcessing's leading specials, Roberta/Bert's cls).</summary>
    public required IReadOnlyList<int> PostProcessorPrefix { get; init; }

    /// <summary>The text an added token is matched as and decodes from: its content, normalized when it is marked normalized.</summary>
    public string MatchText(AddedToken t) => t.Normalized ? Normalizer.Apply(t.Content) : t.Content;

    public static HfTokenizerJson Read(JsonNode root, string path)
    {
        UnsupportedTokenizerException Unsupported(string component, string found, string supported) => new(path, component, found, supported);
        InvalidDataException Invalid(string reason) =>
            new($"'{path}' was not written by CodeLm's BPE trainer, and is not a usable byte-level BPE tokenizer.json: {reason}.");

        var model = root["model"] as JsonObject ?? throw Invalid("it has no model");
        var modelType = Str(model["type"]) ?? (model["merges"] != null ? "BPE" : "(no type)");
        if (modelType != "BPE") throw Unsupported("model", modelType, UnsupportedTokenizerException.SupportedSummary);
        if (model["dropout"] is JsonValue d && d.GetValue<double>() > 0)
            throw Unsupported("model", $"BPE with dropout {d}", "BPE without dropout (encoding must be deterministic)");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (!string.IsNullOrEmpty(Str(model[affix])))
                throw Unsupported("model", $"BPE with {affix} '{Str(model[affix])}'", "byte-level BPE without subword affixes");

        var vocabNode = model["vocab"] as JsonObject ?? throw Invalid("it has no model.vocab");
        var vocab = new Dictionary<string, int>(vocabNode.Count, StringComparer.Ordinal);
        foreach (var (token, id) in vocabNode)
        {
            var value = id?.GetValue<int>() ?? -1;
            if (value < 0) throw Invalid($"token '{token}' has no valid id");
            vocab[token] = value;
        }

        var steps = new List<PreTokenizerStep>();
        ReadPreTokenizer(root["pre_tokenizer"], steps, Unsupported);
        var byteLevelAt = steps.FindIndex(s => s is ByteLevelStep);
        if (byteLevelAt < 0)
        {
            var pre = root["pre_tokenizer"] == null ? "null" : Describe(root["pre_tokenizer"]);
            var fallback = Bool(model["byte_fallback"]) ? " with a BPE model using byte_fallback (a SentencePiece-style tokenizer such as Llama-2's)" : "";
            throw Unsupported("pre_tokenizer", $"{pre}{fallback}, not byte-level", "a pre_tokenizer with ByteLevel");
        }
        if (byteLevelAt != steps.Count - 1)
            throw Unsupported("pre_tokenizer", "a Sequence with steps after ByteLevel", "ByteLevel as the last pre-tokenizer");
        if (Bool(model["byte_fallback"]) && Enumerable.Range(0, 256).Any(b => !vocab.ContainsKey(ByteLevel.ByteToChar[b].ToString())))
            throw Unsupported("model", "BPE with byte_fallback and byte tokens missing from its vocabulary", "byte-level BPE whose vocabulary has all 256 byte tokens, or no byte_fallback");

        var normalizer = ReadNormalizer(root["normalizer"], Unsupported);
        if (root["decoder"] is not JsonObject) throw Invalid("it has no decoder (byte-level BPE needs the ByteLevel decoder)");
        ReadDecoder(root["decoder"], Unsupported);

        var merges = ReadMerges(model["merges"], Invalid);
        var unk = Str(model["unk_token"]);
        if (unk != null && !vocab.ContainsKey(unk)) throw Invalid($"its unk_token '{unk}' is not in the vocabulary");

        return new HfTokenizerJson
        {
            Vocab = vocab,
            Merges = merges,
            IgnoreMerges = Bool(model["ignore_merges"]),
            UnkToken = unk,
            FuseUnk = Bool(model["fuse_unk"]),
            AddedTokens = ReadAddedTokens(root["added_tokens"], vocab, path),
            Normalizer = normalizer,
            PreTokenizer = new PreTokenizerChain(steps),
            PostProcessorPrefix = ReadPostProcessorPrefix(root["post_processor"]),
        };
    }

    private static void ReadPreTokenizer(JsonNode? node, List<PreTokenizerStep> steps,
        Func<string, string, string, UnsupportedTokenizerException> unsupported)
    {
        if (node == null) return;
        var type = Str(node["type"]);
        switch (type)
        {
            case "Sequence":
                foreach (var inner in node["pretokenizers"] as JsonArray ?? []) ReadPreTokenizer(inner, steps, unsupported);
                break;
            case "ByteLevel":
                steps.Add(new ByteLevelStep(node["add_prefix_space"] == null || Bool(node["add_prefix_space"]),
                    node["use_regex"] == null || Bool(node["use_regex"])));
                break;
            case "Digits":
                steps.Add(new DigitsStep(Bool(node["individual_digits"])));
                break;
            case "Split":
                var pattern = node["pattern"];
                var regex = Str(pattern?["Regex"]);
                var literal = Str(pattern?["String"]);
                if (regex == null && literal == null) throw unsupported("pre_tokenizer", "a Split without a pattern", "Split with {\"Regex\": ...} or {\"String\": ...}");
                var behaviorName = Str(node["behavior"]) ?? "";
                if (!Enum.TryParse<SplitBehavior>(behaviorName, ignoreCase: true, out var behavior))
                    throw unsupported("pre_tokenizer", $"a Split with behavior '{behaviorName}'", "Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
                OnigRegex compiled;
                try { compiled = regex != null ? OnigRegex.Get(regex) : OnigRegex.Literal(literal!); }
                catch (NotSupportedException e) { throw unsupported("pre_tokenizer", $"a Split whose {e.Message}", "Split patterns made of literals, classes, \\d \\s \\w \\h, \\p{general category}, groups, alternation, quantifiers, anchors and look-around"); }
                steps.Add(new SplitStep(compiled, behavior, Bool(node["invert"])));
                break;
            case "Metaspace":
                throw unsupported("pre_tokenizer", "Metaspace (SentencePiece-style, not byte-level)", "ByteLevel, Split, Digits, Sequence");
            default:
                throw unsupported("pre_tokenizer", type ?? "(no type)", "ByteLevel, Split, Digits, Sequence");
        }
    }

    private static TextNormalizer ReadNormalizer(JsonNode? node, Func<string, string, string, UnsupportedTokenizerException> unsupported)
    {
        var forms = new List<NormalizationForm>();
        void Add(JsonNode? n)
        {
            if (n == null) return;
            var type = Str(n["type"]);
            switch (type)
            {
                case "Sequence": foreach (var inner in n["normalizers"] as JsonArray ?? []) Add(inner); break;
                case "NFC": forms.Add(NormalizationForm.FormC); break;
                case "NFD": forms.Add(NormalizationForm.FormD); break;
                case "NFKC": forms.Add(NormalizationForm.FormKC); break;
                case "NFKD": forms.Add(NormalizationForm.FormKD); break;
                default: throw unsupported("normalizer", type ?? "(no type)", "null, NFC, NFD, NFKC, NFKD or a Sequence of them");
            }
        }
        Add(node);
        return forms.Count == 0 ? TextNormalizer.None : new TextNormalizer(forms);
    }

    private static void ReadDecoder(JsonNode? node, Func<string, string, string, UnsupportedTokenizerException> unsupported)
    {
        var type = Str(node?["type"]);
        if (type == "ByteLevel") return;
        if (type == "Sequence" && node!["decoders"] is JsonArray inner && inner.Count > 0 && inner.All(d => Str(d?["type"]) == "ByteLevel")) return;
        throw unsupported("decoder", node == null ? "null" : Describe(node), "ByteLevel");
    }

    private static List<(string, string)> ReadMerges(JsonNode? node, Func<string, InvalidDataException> invalid)
    {
        var array = node as JsonArray ?? throw invalid("it has no model.merges");
        var merges = new List<(string, string)>(array.Count);
        foreach (var m in array)
        {
            if (m is JsonArray pair && pair.Count == 2) { merges.Add((pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>())); continue; }
            var line = m?.GetValue<string>() ?? "";
            if (line.StartsWith("#version", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2) throw invalid($"merge {merges.Count} '{line}' is not 'left right'");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    private static List<AddedToken> ReadAddedTokens(JsonNode? node, Dictionary<string, int> vocab, string path)
    {
        var byContent = new Dictionary<string, int>(StringComparer.Ordinal);
        var byId = new Dictionary<int, AddedToken>();
        var next = vocab.Count;
        foreach (var t in node as JsonArray ?? [])
        {
            var content = Str(t?["content"]) ?? throw new InvalidDataException($"'{path}': an added token has no content.");
            if (content.Length == 0) continue;
            var special = Bool(t!["special"]);
            var token = new AddedToken(-1, content, special, t["normalized"] == null ? !special : Bool(t["normalized"]),
                Bool(t["lstrip"]), Bool(t["rstrip"]), Bool(t["single_word"]));
            if (byContent.TryGetValue(content, out var known) && byId[known] == token with { Id = known }) continue;
            var id = byContent.TryGetValue(content, out known) ? known : vocab.TryGetValue(content, out var v) ? v : next++;
            byContent[content] = id;
            byId[id] = token with { Id = id };
        }
        return [.. byId.Values.OrderBy(t => t.Id)];
    }

    private static IReadOnlyList<int> ReadPostProcessorPrefix(JsonNode? node)
    {
        switch (Str(node?["type"]))
        {
            case "TemplateProcessing":
                var ids = new List<int>();
                foreach (var item in node!["single"] as JsonArray ?? [])
                {
                    if (item?["Sequence"] != null) break;
                    var name = Str(item?["SpecialToken"]?["id"]);
                    if (name != null && node["special_tokens"]?[name]?["ids"] is JsonArray tokenIds)
                        ids.AddRange(tokenIds.Select(i => i!.GetValue<int>()));
                }
                return ids;
            case "RobertaProcessing" or "BertProcessing":
                return node!["cls"] is JsonArray cls && cls.Count == 2 ? [cls[1]!.GetValue<int>()] : [];
            case "Sequence":
                foreach (var inner in node!["processors"] as JsonArray ?? [])
                {
                    var prefix = ReadPostProcessorPrefix(inner);
                    if (prefix.Count > 0) return prefix;
                }
                return [];
            default:
                return [];
        }
    }

    private static string Describe(JsonNode? node)
    {
        var type = Str(node?["type"]) ?? "(no type)";
        if (type != "Sequence") return type;
        var inner = node!["pretokenizers"] ?? node["decoders"] ?? node["normalizers"];
        return $"Sequence[{string.Join(", ", (inner as JsonArray ?? []).Select(Describe))}]";
    }

    internal static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    internal static bool Bool(JsonNode? n) => n is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}
