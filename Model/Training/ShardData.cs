using CodeLm.Common;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Shards;

namespace CodeLm.Model.Training;

/// <summary>
/// Opens a shard directory for training: validates it (files, manifest, tokenizer hash), reads documents without the
/// framing the shards store (<see cref="DocumentFraming"/>: the trainer frames them again, after FIM), and wires up FIM
/// with the tokenizer's own sentinels.
/// </summary>
public static class ShardData
{
    /// <param name="framingTokens">Framing ids every stored document has, so lengths come from the index alone.</param>
    private sealed class Split(IndexedDatasetReader reader, DocumentFraming framing, int framingTokens) : IDocumentSource
    {
        public int Count => reader.Count;
        public int[] GetDocument(int index) => framing.Body(reader.GetDocument(index)).ToArray();
        public int Length(int index) => Math.Max(0, reader.DocumentLength(index) - framingTokens);
    }

    /// <summary>
    /// Opens <paramref name="shardDir"/>. <paramref name="tokenizerDir"/> defaults to the shards' own tokenizer/ copy;
    /// another tokenizer must have the hash the shards were made with.
    /// </summary>
    public static (TrainData Data, CodeTokenizer Tokenizer, IDisposable Handles) Open(string shardDir, string? tokenizerDir = null)
    {
        if (!Directory.Exists(shardDir))
            throw new DirectoryNotFoundException($"Shard directory '{shardDir}' does not exist. Make it with `codelm data tokenize`.");
        var tokenizer = CodeTokenizer.Load(tokenizerDir ?? ShardSet.TokenizerDir(shardDir));
        var manifest = ShardSet.Load(shardDir, tokenizer);
        if (manifest.VocabSize != tokenizer.VocabSize)
            throw new InvalidDataException($"'{shardDir}': manifest vocabulary {manifest.VocabSize} differs from the tokenizer's {tokenizer.VocabSize}.");
        // Manifests from before the framing was recorded: `data tokenize` ended each document with end-of-text, other
        // writers did not, so a trailing one is dropped where present and lengths are taken as stored.
        var framing = manifest.Documents ?? DocumentFraming.For(tokenizer, tagLines: true);
        var framingTokens = manifest.Documents?.FramingTokens ?? 0;
        var train = IndexedDatasetReader.Open(ShardSet.Prefix(shardDir, ShardManifest.Train));
        var validation = IndexedDatasetReader.Open(ShardSet.Prefix(shardDir, ShardManifest.Validation));
        if (train.Count == 0) throw new InvalidDataException($"'{shardDir}': the train split has no documents.");
        if (validation.Count == 0) throw new InvalidDataException($"'{shardDir}': the validation split has no documents; validation loss needs some.");
        // A family without FIM sentinels (GPT-2, codeparrot) trains without FIM rather than on sentinels it never had.
        var tokens = tokenizer.HasFim
            ? new FimTokens(framing.EndOfText, tokenizer.FimPrefix, tokenizer.FimMiddle, tokenizer.FimSuffix, framing.BeginOfText)
            : new FimTokens(framing.EndOfText, -1, -1, -1, framing.BeginOfText);
        var data = new TrainData(new Split(train, framing, framingTokens), new Split(validation, framing, framingTokens), tokenizer.VocabSize, tokens,
            tokenizer.HasFim ? tokenizer.Encode : null, tokenizer.HasFim ? ids => tokenizer.Decode(ids) : null, tokenizer.Directory, tokenizer.Hash)
        {
            Provenance = new TrainingDataRecord { CorpusHash = manifest.CorpusHash, Decontamination = manifest.Decontamination },
        };
        return (data, tokenizer, new Handles(train, validation));
    }

    private sealed class Handles(params IDisposable[] items) : IDisposable
    {
        public void Dispose() { foreach (var i in items) i.Dispose(); }
    }
}
