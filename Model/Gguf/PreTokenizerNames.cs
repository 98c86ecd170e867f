using System.Text.Json.Nodes;
using CodeLm.Tokenizer;

namespace CodeLm.Model.Gguf;

/// <summary>
/// llama.cpp does not read a tokenizer's split regex from the file: tokenizer.ggml.pre names one of the splits compiled
/// into it (llama-vocab.cpp). This picks that name from tokenizer.json's pre_tokenizer, matched on its steps exactly
/// (llama.cpp's converter matches a hash of a sample's tokens instead, which needs the tokenizers library).
/// </summary>
public static class PreTokenizerNames
{
    /// <summary>
    /// For CodeLm's own split (<see cref="CodePreTokenizer.Pattern"/>), which llama.cpp has no copy of: the closest of
    /// the names llama.cpp knows, measured over all of them on the shared corpus (docs/model.md, "GGUF export").
    /// qwen2 splits digits one by one, keeps a punctuation run with the line breaks after it, and splits whitespace
    /// as CodeLm does: every corpus file without '_' and tabs came out token for token the same. It differs where
    /// CodeLm keeps '_' inside identifiers (qwen2 splits "max_len" at the '_') and keeps a run of tabs before code
    /// whole (qwen2 gives its last tab to the word), so such files tokenize a little longer in llama.cpp; rarer
    /// differences (combining marks, English contractions) are listed in the docs.
    /// </summary>
    public const string CodeLm = "qwen2";

    private const string Qwen2Regex = SplitRules.Qwen2Pattern; // also what a CodeLm tokenizer trained with SplitRule.Qwen2 carries
    private const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Step signatures (see <see cref="Signature"/>) → llama.cpp's name.</summary>
    private static readonly (string Signature, string Name, string Family)[] Known =
    [
        ("ByteLevel(regex)", "gpt-2", "GPT-2"),
        ("Digits(individual) + ByteLevel(regex)", "starcoder", "StarCoder, StarCoder2, Refact"),
        ($"Split({Qwen2Regex}) + ByteLevel", "qwen2", "Qwen2, Qwen2.5(-Coder)"),
        ($"Split({Llama3Regex}) + ByteLevel", "llama-bpe", "Llama 3"),
        ($"Split({CodePreTokenizer.Pattern}) + ByteLevel", CodeLm, "CodeLm"),
    ];

    /// <summary>The tokenizer families recognised, for error messages.</summary>
    public static IReadOnlyList<string> Supported { get; } = [.. Known.Select(k => $"{k.Family} ({k.Name})"), "DeepSeek-Coder (deepseek-coder)"];

    /// <summary>llama.cpp's name for this pre_tokenizer, or null when it is none of the known ones.</summary>
    public static string? Find(JsonNode? preTokenizer)
    {
        var sig = Signature(preTokenizer);
        return Known.FirstOrDefault(k => k.Signature == sig).Name ?? (IsDeepSeekCoder(sig) ? "deepseek-coder" : null);
    }

    // DeepSeek-Coder's Splits spell out long letter and punctuation classes; they are matched by their order and anchors
    // (line breaks, letters from A-Za-z, punctuation, trailing space, CJK, digits) rather than character for character.
    private static bool IsDeepSeekCoder(string sig) =>
        sig.StartsWith("Split([\\r\\n]) + Split(\\s?[A-Za-z", StringComparison.Ordinal)
        && sig.Contains(" + Split(\\s+$) + Split([一-龥", StringComparison.Ordinal)
        && (sig.EndsWith(" + Digits(individual) + ByteLevel", StringComparison.Ordinal) || sig.EndsWith(" + Split(\\p{N}+) + ByteLevel", StringComparison.Ordinal));

    /// <summary>
    /// A pre_tokenizer as its steps: "Split(regex)", "Digits(individual)", "ByteLevel(regex)" (ByteLevel that also
    /// applies GPT-2's regex) joined by " + ". Settings that do not change the split (offsets, invert=false) are left out.
    /// </summary>
    public static string Signature(JsonNode? node)
    {
        if (node is not JsonObject o) return "none";
        var type = o["type"]?.GetValue<string>() ?? "?";
        switch (type)
        {
            case "Sequence":
                return string.Join(" + ", (o["pretokenizers"] as JsonArray ?? []).Select(Signature));
            case "ByteLevel":
                return o["use_regex"]?.GetValue<bool>() ?? true ? "ByteLevel(regex)" : "ByteLevel";
            case "Digits":
                return o["individual_digits"]?.GetValue<bool>() == true ? "Digits(individual)" : "Digits";
            case "Split":
                var pattern = o["pattern"]?["Regex"]?.GetValue<string>() ?? System.Text.RegularExpressions.Regex.Escape(o["pattern"]?["String"]?.GetValue<string>() ?? "");
                var behavior = o["behavior"]?.GetValue<string>() ?? "Isolated";
                var invert = o["invert"]?.GetValue<bool>() == true ? ",invert" : "";
                return behavior == "Isolated" && invert == "" ? $"Split({pattern})" : $"Split({pattern},{behavior}{invert})";
            default:
                return type;
        }
    }
}
