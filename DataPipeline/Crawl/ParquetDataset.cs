using System.Security.Cryptography;
using System.Text;
using Parquet;
using Parquet.Schema;

namespace CodeLm.DataPipeline.Crawl;

/// <summary>The column layouts a Parquet dataset source may have.</summary>
public enum DatasetLayout
{
    /// <summary>bigcode/the-stack(-dedup, -v2 with content): content, lang, max_stars_repo_path, max_stars_repo_name, max_stars_repo_licenses.</summary>
    TheStack,
    /// <summary>A CodeLm corpus file: repo, path, language, license, sha, content.</summary>
    CodeLm,
}

/// <summary>One file of a dataset: where it came from, its language as the dataset says, its license(s), its bytes.</summary>
public sealed record DatasetRow(string Repo, string Path, string? Language, string License, byte[] Content);

/// <summary>
/// An existing dataset as a source beside git repositories: a Parquet file in The Stack's layout or CodeLm's own. Its
/// rows go through the same filters, dedup and decontamination as files read from a clone; each keeps its own
/// repository name and license in the corpus, and the split goes by those repositories.
/// </summary>
public static class ParquetDataset
{
    private static readonly string[] StackColumns = ["content", "lang", "max_stars_repo_path", "max_stars_repo_name", "max_stars_repo_licenses"];
    private static readonly string[] CodeLmColumns = ["repo", "path", "language", "license", "content"];

    public static bool IsDataset(string path) => path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);

    /// <summary>The file's layout and sha256 (the manifest's pin), or an exception naming the missing columns.</summary>
    public static (DatasetLayout Layout, string Sha256) Describe(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException("path not found", path);
        string sha;
        using (var s = File.OpenRead(path)) sha = Convert.ToHexStringLower(SHA256.HashData(s));
        using var stream = File.OpenRead(path);
        var reader = Open(stream, path);
        try { return (LayoutOf(reader.Schema, path), sha); }
        finally { reader.Dispose(); }
    }

    /// <summary>Every row, in file order.</summary>
    public static List<DatasetRow> Read(string path, CancellationToken ct)
    {
        using var stream = File.OpenRead(path);
        var reader = Open(stream, path);
        try { return Rows(reader, path, ct); }
        finally { reader.Dispose(); }
    }

    private static List<DatasetRow> Rows(ParquetReader reader, string path, CancellationToken ct)
    {
        var layout = LayoutOf(reader.Schema, path);
        var names = layout == DatasetLayout.TheStack ? StackColumns : CodeLmColumns;
        var fields = names.Select(n => Leaf(reader.Schema, n)).ToArray();
        var rows = new List<DatasetRow>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            ct.ThrowIfCancellationRequested();
            using var group = reader.OpenRowGroupReader(g);
            int n = checked((int)group.RowCount);
            // The Stack's fifth column is a list, read on its own below.
            var text = fields.Select((f, c) => layout == DatasetLayout.TheStack && c == 4 ? null : ReadStrings(group, f, n, ct)).ToArray();
            var licenses = layout == DatasetLayout.TheStack ? Lists(group, fields[4], ct) : null;
            for (int i = 0; i < n; i++)
            {
                string S(int c) => text[c]![i] ?? "";
                rows.Add(layout == DatasetLayout.TheStack
                    ? new DatasetRow(S(3), S(2), NullIfEmpty(S(1)), licenses![i].Count > 0 ? string.Join(" OR ", licenses[i]) : "unknown", Encoding.UTF8.GetBytes(S(0)))
                    : new DatasetRow(S(0), S(1), NullIfEmpty(S(2)), S(3), Encoding.UTF8.GetBytes(S(4))));
            }
        }
        return rows;
    }

    private static ParquetReader Open(Stream stream, string path)
    {
        try { return ParquetReader.CreateAsync(stream).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not OperationCanceledException) { throw new InvalidDataException($"not a readable Parquet file: {e.Message}", e); }
    }

    private static DatasetLayout LayoutOf(ParquetSchema schema, string path)
    {
        bool Has(string[] names) => names.All(n => schema.GetDataFields().Any(f => f.Path.ToList()[0] == n));
        if (Has(StackColumns)) return DatasetLayout.TheStack;
        if (Has(CodeLmColumns)) return DatasetLayout.CodeLm;
        throw new InvalidDataException($"neither The Stack's columns ({string.Join(", ", StackColumns)}) nor CodeLm's ({string.Join(", ", CodeLmColumns)}) are all there");
    }

    // A list column (The Stack's licenses) is read through its leaf field, whatever the writer named the levels in between.
    private static DataField Leaf(ParquetSchema schema, string column) => schema.GetDataFields().First(f => f.Path.ToList()[0] == column);

    private static string?[] ReadStrings(ParquetRowGroupReader group, DataField field, int rows, CancellationToken ct)
    {
        var values = new string?[rows];
        group.ReadAsync(field, values.AsMemory()!, null, ct).GetAwaiter().GetResult();
        return values;
    }

    /// <summary>
    /// A repeated column's values regrouped per row: a repetition level of 0 starts a row, and an entry below the full
    /// definition level is an empty (or null) list, not a value. Read raw: Parquet.Net 6.1's string reader sizes its
    /// levels by rows, too few for a list column. Some writers (parquetjs) also leave empty lists out of the chunk's value
    /// count, so the buffers get one more entry per row, and the entries end where a row past the last would start.
    /// </summary>
    private static List<List<string>> Lists(ParquetRowGroupReader group, DataField field, CancellationToken ct)
    {
        int rowCount = checked((int)group.RowCount);
        int entries = checked((int)group.GetMetadata(field)!.MetaData!.NumValues + rowCount);
        var values = new ReadOnlyMemory<char>[entries];
        var definition = new int[entries];
        var repetition = new int[entries];
        group.ReadRawAsync<ReadOnlyMemory<char>>(field, values, definition, repetition, ct).AsTask().GetAwaiter().GetResult();
        var rows = new List<List<string>>(rowCount);
        for (int e = 0, v = 0; e < entries; e++)
        {
            if (repetition[e] == 0)
            {
                if (rows.Count == rowCount) break;
                rows.Add([]);
            }
            if (definition[e] == field.MaxDefinitionLevel) rows[^1].Add(new string(values[v++].Span));
        }
        return rows;
    }

    private static void Dispose(this ParquetReader reader) => reader.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
