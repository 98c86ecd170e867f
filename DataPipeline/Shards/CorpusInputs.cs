using System.Security.Cryptography;
using System.Text;
using CodeLm.DataPipeline.Corpus;
using Parquet;

namespace CodeLm.DataPipeline.Shards;

/// <summary>The two corpus Parquet files as tokenizer inputs: paths, row counts and the corpus hash.</summary>
public static class CorpusInputs
{
    /// <summary>(split name, parquet path) for train and validation; a clear error when either is missing.</summary>
    public static IReadOnlyList<(string Split, string Path)> Splits(string corpusDir)
    {
        if (!Directory.Exists(corpusDir))
            throw new DirectoryNotFoundException($"Corpus directory '{corpusDir}' does not exist. Build one with `codelm data build`.");
        var splits = new[] { ("train", Path.Combine(corpusDir, CorpusFiles.Train)), ("validation", Path.Combine(corpusDir, CorpusFiles.Validation)) };
        foreach (var (_, p) in splits)
            if (!File.Exists(p)) throw new FileNotFoundException($"'{corpusDir}' is not a corpus: {Path.GetFileName(p)} is missing.", p);
        return splits;
    }

    /// <summary>sha256 over the names and bytes of train.parquet and validation.parquet (lower-case hex).</summary>
    public static string Hash(string corpusDir)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, path) in Splits(corpusDir))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(path) + "\n"));
            using var f = File.OpenRead(path);
            sha.AppendData(SHA256.HashData(f));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Rows in a corpus Parquet file, from its footer (no content is read).</summary>
    public static async Task<long> RowCountAsync(string parquetPath, CancellationToken ct = default)
    {
        await using var stream = File.OpenRead(parquetPath);
        try
        {
            await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: ct);
            return reader.Metadata?.NumRows ?? 0;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException($"{parquetPath} is not a readable Parquet file: {e.Message}", e);
        }
    }
}
