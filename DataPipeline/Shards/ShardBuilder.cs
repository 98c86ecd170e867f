using System.Text.Json;
using CodeLm.Common;
using CodeLm.DataPipeline.Corpus;
using CodeLm.Tokenizer.Shards;
using CodeLm.Tokenizer;
using SplitStats = CodeLm.Tokenizer.Shards.SplitStats;

namespace CodeLm.DataPipeline.Shards;

/// <summary>
/// Options of <c>codelm data tokenize</c>. <see cref="TokenizerDir"/> is a CodeLm tokenizer directory or a Hugging Face
/// model folder (its tokenizer.json and the files naming its special tokens are read, never its weights).
/// </summary>
public sealed record ShardBuildOptions(string CorpusDir, string TokenizerDir, string OutputDir, int Threads = 0, int ChunkDocuments = 512, bool Force = false,
    TagLines TagLines = TagLines.Auto);

/// <summary>Progress of one split: documents tokenized so far out of the split's rows.</summary>
public sealed record ShardProgress(string Split, long Documents, long TotalDocuments, long Tokens);

public sealed record ShardBuildResult(string OutputDir, ShardManifest Manifest, bool AlreadyUpToDate, int ChunksReused, int ChunksTokenized);

/// <summary>
/// Corpus → Megatron shards. Each file is one document framed in the tokenizer family's conventions
/// (<see cref="DocumentFraming"/>): for CodeLm's tokenizers <c>LanguageTag.Prefix(language) + content</c> then
/// <c>&lt;|endoftext|&gt;</c>; for a model's, its content then the model's own end-of-text (after its begin-of-text, if
/// it has one). Ids are uint16 or, above Megatron's 65,500 limit, int32.
/// Rows are cut into fixed chunks that are tokenized in parallel, each written atomically to a work folder keyed by
/// tokenizer hash, corpus hash, framing and chunk size; a rerun after a crash reuses every finished chunk. The chunks are then
/// concatenated in corpus order into <c>train</c>/<c>validation</c> datasets, the tokenizer is copied, and the manifest
/// is written last, so a shard directory with a manifest is always complete.
/// </summary>
public static class ShardBuilder
{
    private sealed record ChunkStats(long Documents, long Tokens, Dictionary<string, long> TokensByLanguage, Dictionary<string, long> DocumentsByLanguage);

    public static async Task<ShardBuildResult> RunAsync(ShardBuildOptions options, IProgress<ShardProgress>? progress = null, CancellationToken ct = default) =>
        (await BuildAsync(options, null, progress, ct))!;

    /// <summary>
    /// Rank <paramref name="rank"/> of <paramref name="world"/>: tokenizes every world-th chunk into the shared work folder
    /// and stops there. A plain <see cref="RunAsync"/> afterwards finds every chunk done and only concatenates, so the
    /// shards are those of a one-process run, byte for byte. Returns (chunks tokenized, chunks reused).
    /// </summary>
    public static async Task<(int Tokenized, int Reused)> TokenizeShareAsync(ShardBuildOptions options, int rank, int world,
                                                                            IProgress<ShardProgress>? progress = null, CancellationToken ct = default)
    {
        if (world < 1 || rank < 0 || rank >= world) throw new ArgumentException($"rank {rank} is outside a world of {world}");
        var r = await BuildAsync(options, (rank, world), progress, ct);
        return r == null ? (0, 0) : (r.ChunksTokenized, r.ChunksReused);
    }

    private static async Task<ShardBuildResult?> BuildAsync(ShardBuildOptions options, (int Rank, int World)? share, IProgress<ShardProgress>? progress, CancellationToken ct)
    {
        if (options.ChunkDocuments <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.ChunkDocuments, "chunk size must be positive");
        // Every refusal about the tokenizer comes before anything is written.
        var tokenizer = CodeTokenizer.Load(options.TokenizerDir);
        var framing = DocumentFraming.For(tokenizer, options.TagLines.For(tokenizer.Kind));
        var splits = CorpusInputs.Splits(options.CorpusDir);
        var corpusHash = CorpusInputs.Hash(options.CorpusDir);
        var outDir = Path.GetFullPath(options.OutputDir);
        Directory.CreateDirectory(outDir);
        // Ranks on other nodes may be writing chunks right now, and their process ids mean nothing here.
        if (share == null) StagedDirectory.RecoverInterrupted(outDir);
        var manifestPath = Path.Combine(outDir, ShardManifest.FileName);

        if (!options.Force && File.Exists(manifestPath))
        {
            var existing = TryLoad(outDir);
            if (existing != null && existing.TokenizerHash == tokenizer.Hash && existing.CorpusHash == corpusHash && existing.Documents == framing)
                return new ShardBuildResult(outDir, existing, true, 0, 0);
        }
        // From here the old set is being replaced: without a manifest it can never be mistaken for a complete one.
        File.Delete(manifestPath);

        var work = Path.Combine(outDir, $".work-{tokenizer.Hash[..12]}-{corpusHash[..12]}-{FramingKey(framing)}-{options.ChunkDocuments}");
        Directory.CreateDirectory(work);
        var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        int reused = 0, tokenized = 0;
        var stats = new Dictionary<string, SplitStats>();

        foreach (var (split, parquet) in splits)
        {
            var total = await CorpusInputs.RowCountAsync(parquet, ct);
            long docsDone = 0, tokensDone = 0;
            var chunkCount = 0;
            async IAsyncEnumerable<(int Index, List<CorpusRecord> Rows)> Chunks()
            {
                var batch = new List<CorpusRecord>(options.ChunkDocuments);
                await foreach (var r in CorpusFiles.ReadAsync(parquet, ct))
                {
                    batch.Add(r);
                    if (batch.Count == options.ChunkDocuments)
                    {
                        yield return (chunkCount++, batch);
                        batch = new List<CorpusRecord>(options.ChunkDocuments);
                    }
                }
                if (batch.Count > 0) yield return (chunkCount++, batch);
            }

            await Parallel.ForEachAsync(Chunks(), new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = ct }, (chunk, token) =>
            {
                if (share is { } sh && chunk.Index % sh.World != sh.Rank) return ValueTask.CompletedTask;
                var prefix = ChunkPrefix(work, split, chunk.Index);
                ChunkStats? s = File.Exists(prefix + ".json") ? ReadStats(prefix + ".json") : null;
                if (s != null) Interlocked.Increment(ref reused);
                else
                {
                    s = Tokenize(tokenizer, framing, chunk.Rows, prefix, token);
                    Interlocked.Increment(ref tokenized);
                }
                progress?.Report(new ShardProgress(split, Interlocked.Add(ref docsDone, s.Documents), total, Interlocked.Add(ref tokensDone, s.Tokens)));
                return ValueTask.CompletedTask;
            });

            if (share == null) stats[split] = Concatenate(work, split, chunkCount, Path.Combine(outDir, split), tokenizer.VocabSize, ct);
        }
        if (share != null) return new ShardBuildResult(outDir, null!, false, reused, tokenized);

        CopyTokenizer(tokenizer, framing, ShardSet.TokenizerDir(outDir));
        var manifest = new ShardManifest(ShardManifest.CurrentFormatVersion, tokenizer.Hash, corpusHash, tokenizer.VocabSize,
            IndexedDatasetFormat.TokenTypeName(IndexedDatasetFormat.DTypeFor(tokenizer.VocabSize)), stats, framing)
        {
            Decontamination = File.Exists(Path.Combine(options.CorpusDir, CorpusManifest.FileName)) ? CorpusManifest.Load(options.CorpusDir).Decontamination : null,
        };
        manifest.Save(manifestPath);
        ShardSet.Load(outDir, tokenizer); // what we promise readers, checked once
        Directory.Delete(work, recursive: true);
        return new ShardBuildResult(outDir, manifest, false, reused, tokenized);
    }

    /// <summary>
    /// The tokenizer's files into the set's tokenizer/ folder; the copy must frame documents as the original did (a
    /// model folder whose end-of-text is named only in its config.json would not, and is refused before the manifest).
    /// </summary>
    private static void CopyTokenizer(CodeTokenizer tokenizer, DocumentFraming framing, string copy) => StagedDirectory.Write(copy, stage =>
    {
        foreach (var name in tokenizer.Files) File.Copy(Path.Combine(tokenizer.Directory, name), Path.Combine(stage, name));
        var copied = CodeTokenizer.Load(stage);
        int? copiedEos = copied.HasEndOfText ? copied.EndOfText : null;
        if (copied.Hash != tokenizer.Hash || copiedEos != framing.EndOfText || copied.BeginOfText != framing.BeginOfText)
            throw new InvalidDataException(
                $"'{tokenizer.Directory}': its tokenizer files alone give end-of-text {copiedEos?.ToString() ?? "none"} and begin-of-text " +
                $"{copied.BeginOfText?.ToString() ?? "none"}, the whole folder {framing.EndOfText} and {framing.BeginOfText?.ToString() ?? "none"} (from its config.json); " +
                "name eos_token (and bos_token) in its tokenizer_config.json so that the shards' tokenizer copy means the same.");
    });

    private static string FramingKey(DocumentFraming f) => $"{(f.TagLines ? "tag" : "notag")}{f.EndOfText}{(f.BeginOfText is { } b ? $"b{b}" : "")}";

    private static ChunkStats Tokenize(CodeTokenizer tokenizer, DocumentFraming framing, List<CorpusRecord> rows, string prefix, CancellationToken ct)
    {
        var byLang = new Dictionary<string, long>();
        var docsByLang = new Dictionary<string, long>();
        var ids = new List<int>(1 << 16);
        using var writer = new IndexedDatasetWriter(prefix, tokenizer.VocabSize);
        foreach (var r in rows)
        {
            ct.ThrowIfCancellationRequested();
            ids.Clear();
            framing.Encode(tokenizer, r.Language, r.Content, ids);
            writer.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids));
            byLang[r.Language] = byLang.GetValueOrDefault(r.Language) + ids.Count;
            docsByLang[r.Language] = docsByLang.GetValueOrDefault(r.Language) + 1;
        }
        var stats = new ChunkStats(writer.Count, writer.TotalTokens, byLang, docsByLang);
        writer.Commit();
        AtomicFile.WriteAllBytes(prefix + ".json", JsonSerializer.SerializeToUtf8Bytes(stats, ShardManifest.Json));
        return stats;
    }

    private static SplitStats Concatenate(string work, string split, int chunks, string prefix, int vocabSize, CancellationToken ct)
    {
        var byLang = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var docsByLang = new SortedDictionary<string, long>(StringComparer.Ordinal);
        using var writer = new IndexedDatasetWriter(prefix, vocabSize);
        var buffer = new int[4096];
        for (var i = 0; i < chunks; i++)
        {
            ct.ThrowIfCancellationRequested();
            var chunkPrefix = ChunkPrefix(work, split, i);
            var s = ReadStats(chunkPrefix + ".json") ?? throw new InvalidDataException($"chunk {chunkPrefix} is incomplete");
            foreach (var (k, v) in s.TokensByLanguage) byLang[k] = byLang.GetValueOrDefault(k) + v;
            foreach (var (k, v) in s.DocumentsByLanguage) docsByLang[k] = docsByLang.GetValueOrDefault(k) + v;
            using var reader = IndexedDatasetReader.Open(chunkPrefix);
            for (var d = 0; d < reader.Count; d++)
            {
                var n = reader.DocumentLength(d);
                if (buffer.Length < n) buffer = new int[Math.Max(n, buffer.Length * 2)];
                reader.ReadTokens(d, 0, buffer.AsSpan(0, n));
                writer.Add(buffer.AsSpan(0, n));
            }
        }
        var stats = new SplitStats(writer.Count, writer.TotalTokens, byLang, docsByLang);
        writer.Commit();
        return stats;
    }

    private static string ChunkPrefix(string work, string split, int index) => Path.Combine(work, $"{split}-{index:D6}");

    private static ChunkStats? ReadStats(string path)
    {
        try { return JsonSerializer.Deserialize<ChunkStats>(File.ReadAllBytes(path), ShardManifest.Json); }
        catch (Exception e) when (e is JsonException or FileNotFoundException) { return null; }
    }

    private static ShardManifest? TryLoad(string dir)
    {
        try { return ShardSet.Load(dir); }
        catch (Exception e) when (e is IOException or InvalidDataException) { return null; }
    }
}
