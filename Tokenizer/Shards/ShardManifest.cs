using System.Text.Json;
using System.Text.Json.Serialization;
using CodeLm.Common;

namespace CodeLm.Tokenizer.Shards;

/// <summary>Counts for one split (<c>train</c> or <c>validation</c>).</summary>
public sealed record SplitStats(
    long Documents,
    long Tokens,
    IReadOnlyDictionary<string, long> TokensByLanguage,
    IReadOnlyDictionary<string, long> DocumentsByLanguage);

/// <summary>
/// <c>manifest.json</c> of a shard directory: what was tokenized with what. <see cref="TokenizerHash"/> is the sha256 of
/// the tokenizer.json the shards were made with (CodeLm's or a model folder's: it alone fixes every id);
/// <see cref="CorpusHash"/> the sha256 over the corpus parquet files; <see cref="TokenType"/> "uint16" or "int32".
/// <see cref="Documents"/> says how each document is framed; manifests written before it was recorded lack it (null),
/// and their documents are CodeLm's: tag line, content, end-of-text.
/// </summary>
public sealed record ShardManifest(
    int FormatVersion,
    string TokenizerHash,
    string CorpusHash,
    int VocabSize,
    string TokenType,
    IReadOnlyDictionary<string, SplitStats> Splits,
    DocumentFraming? Documents = null)
{
    public const int CurrentFormatVersion = 1;

    /// <summary>What the corpus was decontaminated against (from its manifest.json), handed on to the checkpoints trained on these shards.</summary>
    public CodeLm.Common.DecontaminationRecord? Decontamination { get; init; }
    public const string FileName = "manifest.json";
    public const string Train = "train", Validation = "validation";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public SplitStats Split(string name) => Splits.TryGetValue(name, out var s)
        ? s
        : throw new InvalidDataException($"shard manifest has no '{name}' split (it has: {string.Join(", ", Splits.Keys)}).");

    public void Save(string path) =>
        CodeLm.Common.AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(this, Json));

    public static ShardManifest Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No shard manifest at '{path}'. Make shards with `codelm data tokenize`.", path);
        try
        {
            return JsonSerializer.Deserialize<ShardManifest>(File.ReadAllBytes(path), Json)
                ?? throw new InvalidDataException($"'{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid shard manifest: {e.Message}");
        }
    }
}
