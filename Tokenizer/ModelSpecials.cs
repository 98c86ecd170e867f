using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.Tokenizer.Hf;

namespace CodeLm.Tokenizer;

/// <summary>
/// The control ids of a tokenizer: end of text, the begin-of-text id its model expects first (if any), the FIM
/// sentinels of its family, and the repository-level markers some code models have.
/// </summary>
internal sealed record ModelSpecials(int? EndOfText, int? BeginOfText, FimSentinels? Fim, int? FimPad, int? FileSeparator, int? RepoName)
{
    /// <summary>How the model lays out files of a repository: by its file separator, Qwen2.5-Coder's or StarCoder2's.</summary>
    public RepoLayout Repo { get; init; } = RepoLayout.CommentHeaders;

    /// <summary>CodeLm's own tokenizers: ids 0..4 in <see cref="SpecialTokens.All"/> order, no begin-of-text.</summary>
    public static ModelSpecials CodeLm { get; } = new(0, null, new FimSentinels(1, 2, 3), 4, null, null);

    // FIM sentinels by family: (prefix, middle, suffix, pad). DeepSeek-Coder names them by role in the hole:
    // begin = prefix, hole = suffix, end = middle.
    private static readonly (string Prefix, string Middle, string Suffix, string? Pad)[] FimFamilies =
    [
        ("<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>"),             // StarCoder, StarCoder2, SantaCoder
        ("<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>"),     // Qwen2.5-Coder
        ("<｜fim▁begin｜>", "<｜fim▁end｜>", "<｜fim▁hole｜>", null),                // DeepSeek-Coder
    ];

    private static readonly string[] FileSeparators = ["<|file_sep|>", "<file_sep>"];
    private static readonly string[] RepoNames = ["<|repo_name|>", "<repo_name>", "<reponame>"];

    /// <summary>
    /// Resolves a Hugging Face model's ids. <paramref name="idOf"/> finds a token by its text (added tokens first, as HF
    /// does). End of text: tokenizer_config.json's eos_token, else config.json's or generation_config.json's
    /// eos_token_id, else &lt;|endoftext|&gt;. Begin of text: tokenizer_config.json's bos_token when add_bos_token is
    /// true, none when it is false, else the one special the post-processor puts first.
    /// </summary>
    public static ModelSpecials Resolve(string directory, Func<string, int?> idOf, IReadOnlyList<int> postProcessorPrefix)
    {
        var config = ReadJson(directory, "tokenizer_config.json");
        int? TokenId(string key) => TokenText(config?[key]) is { } text ? idOf(text) : null;

        var eos = TokenId("eos_token")
                  ?? EosTokenId(ReadJson(directory, "config.json"))
                  ?? EosTokenId(ReadJson(directory, "generation_config.json"))
                  ?? idOf(SpecialTokens.EndOfText);

        int? bos = (config?["add_bos_token"] as JsonValue)?.TryGetValue<bool>(out var add) == true
            ? add ? TokenId("bos_token") ?? Single(postProcessorPrefix) : null
            : Single(postProcessorPrefix);

        FimSentinels? fim = null;
        int? pad = null;
        foreach (var (prefix, middle, suffix, padText) in FimFamilies)
            if (idOf(prefix) is { } p && idOf(middle) is { } m && idOf(suffix) is { } s)
            {
                fim = new FimSentinels(p, m, s);
                pad = padText != null ? idOf(padText) : null;
                break;
            }

        var separator = Array.FindIndex(FileSeparators, t => idOf(t) != null);
        return new ModelSpecials(eos, bos, fim, pad, separator < 0 ? null : idOf(FileSeparators[separator]),
            RepoNames.Select(idOf).FirstOrDefault(i => i != null))
        {
            Repo = separator switch { 0 => RepoLayout.Qwen, 1 => RepoLayout.StarCoder2, _ => RepoLayout.CommentHeaders },
        };
    }

    private static int? Single(IReadOnlyList<int> ids) => ids.Count == 1 ? ids[0] : null;

    // tokenizer_config.json writes a token as "text" or as {"content": "text", ...}.
    private static string? TokenText(JsonNode? node) => HfTokenizerJson.Str(node) ?? HfTokenizerJson.Str(node?["content"]);

    private static int? EosTokenId(JsonNode? config) => config?["eos_token_id"] switch
    {
        JsonValue v when v.TryGetValue<int>(out var id) => id,
        JsonArray { Count: > 0 } a when a[0] is JsonValue first && first.TryGetValue<int>(out var id) => id,
        _ => null,
    };

    private static JsonNode? ReadJson(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        if (!File.Exists(path)) return null;
        try { return JsonNode.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}"); }
    }
}
