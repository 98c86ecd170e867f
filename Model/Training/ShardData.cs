using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Shards;

namespace CodeLm.Model.Training;

/// <summary>Opens a shard directory for training: validates it (files, manifest, tokenizer hash) and wires up FIM.</summary>
public static class ShardData
{
    private sealed class Split(IndexedDatasetReader reader) : IDocumentSource
    {
        public int Count => reader.Count;
        public int[] GetDocument(int index) => reader.GetDocument(index);
        public int Length(int index) => reader.DocumentLength(index);
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
        var manifest = ShardSet.Load(shardDir, tokenizer.Hash);
        if (manifest.VocabSize != tokenizer.VocabSize)
            throw new InvalidDataException($"'{shardDir}': manifest vocabulary {manifest.VocabSize} differs from the tokenizer's {tokenizer.VocabSize}.");
        var train = IndexedDatasetReader.Open(ShardSet.Prefix(shardDir, ShardManifest.Train));
        var validation = IndexedDatasetReader.Open(ShardSet.Prefix(shardDir, ShardManifest.Validation));
        if (train.Count == 0) throw new InvalidDataException($"'{shardDir}': the train split has no documents.");
        if (validation.Count == 0) throw new InvalidDataException($"'{shardDir}': the validation split has no documents; validation loss needs some.");
        var data = new TrainData(new Split(train), new Split(validation), tokenizer.VocabSize,
            new FimTokens(tokenizer.EndOfText, tokenizer.FimPrefix, tokenizer.FimMiddle, tokenizer.FimSuffix),
            tokenizer.Encode, ids => tokenizer.Decode(ids), tokenizer.Directory, tokenizer.Hash);
        return (data, tokenizer, new Handles(train, validation));
    }

    private sealed class Handles(params IDisposable[] items) : IDisposable
    {
        public void Dispose() { foreach (var i in items) i.Dispose(); }
    }
}
