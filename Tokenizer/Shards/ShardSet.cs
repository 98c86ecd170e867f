namespace CodeLm.Tokenizer.Shards;

/// <summary>
/// A shard directory: <c>train.bin/.idx</c>, <c>validation.bin/.idx</c>, <c>manifest.json</c> and <c>tokenizer/</c>
/// (a copy of the tokenizer the shards were made with). <see cref="Load(string)"/> checks that they belong together.
/// </summary>
public static class ShardSet
{
    public const string TokenizerFolder = "tokenizer";

    public static string TokenizerDir(string shardDir) => Path.Combine(shardDir, TokenizerFolder);

    /// <summary>Dataset prefix of a split, e.g. <c>&lt;dir&gt;/train</c> (open it with <see cref="IndexedDatasetReader.Open"/>).</summary>
    public static string Prefix(string shardDir, string split) => Path.Combine(shardDir, split);

    /// <summary>
    /// Reads the manifest and validates the set: every file present, the tokenizer copy's hash equal to the manifest's,
    /// and each split's index header agreeing with the manifest (token width, documents, tokens).
    /// </summary>
    public static ShardManifest Load(string shardDir) => Load(shardDir, expectedTokenizerHash: null);

    /// <summary>
    /// As <see cref="Load(string)"/>, and refuses shards made with a tokenizer other than <paramref name="inUse"/>, naming
    /// both: the ids of one tokenizer mean other text, or nothing, to another.
    /// </summary>
    public static ShardManifest Load(string shardDir, CodeTokenizer inUse)
    {
        var manifest = Load(shardDir);
        if (manifest.TokenizerHash != inUse.Hash)
            throw new InvalidDataException(
                $"'{shardDir}' was tokenized with {Describe(manifest.Documents?.Tokenizer, manifest.TokenizerHash, manifest.VocabSize)} (a copy is in its {TokenizerFolder}/ folder), " +
                $"but the tokenizer in use is '{inUse.Directory}', {Describe(inUse.Kind, inUse.Hash, inUse.VocabSize)}. " +
                "Re-tokenize the corpus with this tokenizer (`codelm data tokenize`) or use the shards' own tokenizer.");
        return manifest;
    }

    /// <summary>As <see cref="Load(string)"/>, and refuses shards made with a tokenizer other than <paramref name="expectedTokenizerHash"/>.</summary>
    public static ShardManifest Load(string shardDir, string? expectedTokenizerHash)
    {
        if (!Directory.Exists(shardDir)) throw new DirectoryNotFoundException($"Shard directory '{shardDir}' does not exist. Make it with `codelm data tokenize`.");
        var manifest = ShardManifest.Read(Path.Combine(shardDir, ShardManifest.FileName));
        if (manifest.FormatVersion != ShardManifest.CurrentFormatVersion)
            throw new InvalidDataException($"'{shardDir}': shard format {manifest.FormatVersion} is not supported (expected {ShardManifest.CurrentFormatVersion}).");

        var tokenizerJson = Path.Combine(TokenizerDir(shardDir), TokenizerFiles.TokenizerJson);
        if (!File.Exists(tokenizerJson))
            throw new FileNotFoundException($"'{shardDir}' has no tokenizer copy ({TokenizerFolder}/{TokenizerFiles.TokenizerJson}); re-run `codelm data tokenize`.", tokenizerJson);
        var actual = TokenizerFiles.Sha256File(tokenizerJson);
        if (actual != manifest.TokenizerHash)
            throw new InvalidDataException(
                $"'{shardDir}': the shards were made with tokenizer {Short(manifest.TokenizerHash)} but its tokenizer/ folder holds {Short(actual)}. " +
                "The token ids would not mean what the tokenizer says; re-run `codelm data tokenize` with the tokenizer you want.");
        if (expectedTokenizerHash != null && expectedTokenizerHash != manifest.TokenizerHash)
            throw new InvalidDataException(
                $"'{shardDir}': the shards were made with tokenizer {Short(manifest.TokenizerHash)}, not with the tokenizer in use ({Short(expectedTokenizerHash)}). " +
                "Re-tokenize the corpus with this tokenizer (`codelm data tokenize`) or use the shards' own tokenizer/ folder.");

        foreach (var (split, stats) in manifest.Splits)
        {
            using var reader = IndexedDatasetReader.Open(Prefix(shardDir, split));
            if (reader.DType != IndexedDatasetFormat.DTypeFor(manifest.VocabSize))
                throw new InvalidDataException($"'{shardDir}/{split}': token width (dtype {reader.DType}) does not match vocabulary size {manifest.VocabSize}.");
            if (reader.Count != stats.Documents || reader.TotalTokens != stats.Tokens)
                throw new InvalidDataException(
                    $"'{shardDir}/{split}': {reader.Count} documents / {reader.TotalTokens} tokens on disk, but the manifest says {stats.Documents} / {stats.Tokens}.");
        }
        return manifest;
    }

    private static string Describe(TokenizerKind? kind, string hash, int vocabSize) =>
        $"{kind switch { TokenizerKind.CodeLm => "a CodeLm tokenizer", TokenizerKind.HuggingFace => "a Hugging Face tokenizer", _ => "tokenizer" }} " +
        $"{Short(hash)} (vocabulary {vocabSize:N0})";

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
