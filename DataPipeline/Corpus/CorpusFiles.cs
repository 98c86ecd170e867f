using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// Reads and writes the corpus Parquet files (<c>train.parquet</c>, <c>validation.parquet</c>): six non-null UTF-8 columns
/// repo, path, language, license, sha, content. Reading goes through Parquet.Net, writing through
/// <see cref="CorpusParquetWriter"/>; writing streams rows in bounded row groups and is atomic (a temp file in the same
/// directory, then a rename), so a reader never sees a half-written corpus.
/// </summary>
public static class CorpusFiles
{
    public const string Train = "train.parquet", Validation = "validation.parquet";

    private static ParquetOptions Options => new();

    /// <summary>Streams the rows of a corpus Parquet file in file order.</summary>
    public static async IAsyncEnumerable<CorpusRecord> ReadAsync(string parquetPath, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (!File.Exists(parquetPath)) throw new FileNotFoundException($"corpus file not found: {parquetPath}", parquetPath);
        await using var stream = File.OpenRead(parquetPath);
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(stream, Options, leaveStreamOpen: true, cancellationToken: ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException($"{parquetPath} is not a readable Parquet file: {e.Message}", e);
        }
        await using (reader)
        {
            var fields = reader.Schema.GetDataFields();
            DataField Field(string name) => fields.FirstOrDefault(f => f.Name == name)
                ?? throw new InvalidDataException($"{parquetPath} has no '{name}' column; it is not a CodeLm corpus file");
            var columns = new[] { Field("repo"), Field("path"), Field("language"), Field("license"), Field("sha"), Field("content") };
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                ct.ThrowIfCancellationRequested();
                using var group = reader.OpenRowGroupReader(g);
                int n = checked((int)group.RowCount);
                var values = new string?[columns.Length][];
                for (int c = 0; c < columns.Length; c++)
                {
                    values[c] = new string?[n];
                    await group.ReadAsync(columns[c], values[c].AsMemory(), null, ct);
                }
                for (int i = 0; i < n; i++)
                    yield return new CorpusRecord(values[0][i] ?? "", values[1][i] ?? "", values[2][i] ?? "",
                                                  values[3][i] ?? "", values[4][i] ?? "", values[5][i] ?? "");
            }
        }
    }

    /// <summary>
    /// Writes rows in the order given (callers sort by repo, path) to <paramref name="parquetPath"/> atomically.
    /// Rows are consumed lazily, so memory is bounded by one row group.
    /// </summary>
    public static Task WriteAsync(string parquetPath, IEnumerable<CorpusRecord> rows, CancellationToken ct = default) =>
        Task.Run(() => Write(parquetPath, writer =>
        {
            foreach (var row in rows)
            {
                ct.ThrowIfCancellationRequested();
                Validate(row);
                writer.Add(row);
            }
        }), ct);

    /// <summary>Writes the rows that <paramref name="fill"/> adds to <paramref name="parquetPath"/> atomically: a temp file
    /// in the same directory, flushed to disk, then renamed over the target.</summary>
    internal static void Write(string parquetPath, Action<CorpusParquetWriter> fill)
    {
        var full = System.IO.Path.GetFullPath(parquetPath);
        var dir = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                using (var writer = new CorpusParquetWriter(stream))
                {
                    fill(writer);
                    writer.Finish();
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void Validate(CorpusRecord row)
    {
        if (row.Repo is null || row.Path is null || row.Language is null || row.License is null || row.Sha is null || row.Content is null)
            throw new ArgumentException($"corpus row {row.Repo}/{row.Path} has a null column; every column must be a string");
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
