using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// Reads and writes the corpus Parquet files (<c>train.parquet</c>, <c>validation.parquet</c>): six non-null UTF-8 columns
/// repo, path, language, license, sha, content. Writing streams rows in bounded row groups and is atomic
/// (a temp file in the same directory, then a rename), so a reader never sees a half-written corpus.
/// </summary>
public static class CorpusFiles
{
    public const string Train = "train.parquet", Validation = "validation.parquet";

    /// <summary>A row group is closed when it reaches this many rows or <see cref="RowGroupBytes"/> of text.</summary>
    private const int RowGroupRows = 50_000;
    private const long RowGroupBytes = 64L << 20;

    private static readonly DataField RepoField = new DataField<string>("repo", nullable: false);
    private static readonly DataField PathField = new DataField<string>("path", nullable: false);
    private static readonly DataField LanguageField = new DataField<string>("language", nullable: false);
    private static readonly DataField LicenseField = new DataField<string>("license", nullable: false);
    private static readonly DataField ShaField = new DataField<string>("sha", nullable: false);
    private static readonly DataField ContentField = new DataField<string>("content", nullable: false);
    private static readonly ParquetSchema Schema = new(RepoField, PathField, LanguageField, LicenseField, ShaField, ContentField);

    private static ParquetOptions Options => new() { CompressionMethod = CompressionMethod.Zstd };

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
    public static async Task WriteAsync(string parquetPath, IEnumerable<CorpusRecord> rows, CancellationToken ct = default)
    {
        var full = System.IO.Path.GetFullPath(parquetPath);
        var dir = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                await using (var writer = await ParquetWriter.CreateAsync(Schema, stream, Options, append: false, cancellationToken: ct))
                {
                    var batch = new List<CorpusRecord>();
                    long bytes = 0;
                    bool wroteAny = false;
                    foreach (var row in rows)
                    {
                        ct.ThrowIfCancellationRequested();
                        Validate(row);
                        batch.Add(row);
                        bytes += row.Content.Length;
                        if (batch.Count >= RowGroupRows || bytes >= RowGroupBytes)
                        {
                            await WriteGroupAsync(writer, batch);
                            wroteAny = true;
                            batch.Clear();
                            bytes = 0;
                        }
                    }
                    if (batch.Count > 0 || !wroteAny) await WriteGroupAsync(writer, batch);
                }
                await stream.FlushAsync(ct);
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

    private static async Task WriteGroupAsync(ParquetWriter writer, List<CorpusRecord> batch)
    {
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(RepoField, batch.ConvertAll(r => r.Repo), null);
        await group.WriteAsync(PathField, batch.ConvertAll(r => r.Path), null);
        await group.WriteAsync(LanguageField, batch.ConvertAll(r => r.Language), null);
        await group.WriteAsync(LicenseField, batch.ConvertAll(r => r.License), null);
        await group.WriteAsync(ShaField, batch.ConvertAll(r => r.Sha), null);
        await group.WriteAsync(ContentField, batch.ConvertAll(r => r.Content), null);
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
