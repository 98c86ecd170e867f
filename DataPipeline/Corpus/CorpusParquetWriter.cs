using System.Buffers.Binary;
using System.Text;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// Writes the corpus layout of Parquet straight from UTF-8 bytes: six required BYTE_ARRAY columns annotated as strings,
/// PLAIN data pages (version 1) of about 1 MB compressed with zstd, row groups of at most 50,000 rows or 16 MB of content,
/// no statistics and no dictionary pages. Parquet.Net (which reads the corpus) wrote the same layout through two UTF-16
/// copies and a memory stream per column; this writer takes the content as the bytes the spill holds, and
/// <see cref="ParquetPages"/> compresses pages on every core as they fill (docs/benchmarks.md, "codelm data build").
/// </summary>
internal sealed class CorpusParquetWriter : IDisposable
{
    public static readonly string[] ColumnNames = ["repo", "path", "language", "license", "sha", "content"];
    private const int Content = 5;
    private const int RowGroupRows = 50_000;
    private const long RowGroupBytes = 16L << 20;
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    private readonly Stream _stream;
    private readonly ParquetPages _pages = new();
    private readonly ParquetPages.ColumnBuffer[] _columns;
    private readonly List<ChunkMeta[]> _groups = [];
    private readonly List<int> _groupRows = [];
    private readonly ThriftCompact _thrift = new();
    private long _position;
    private int _rows;
    private long _totalRows;

    public CorpusParquetWriter(Stream stream)
    {
        _stream = stream;
        _columns = [.. ColumnNames.Select(_ => _pages.NewColumn())];
        Write(Magic);
    }

    /// <summary>Adds a row and returns where its <paramref name="contentBytes"/> bytes of UTF-8 content go; fill it before the next call.</summary>
    public Span<byte> Add(string repo, string path, string language, string license, string sha, int contentBytes)
    {
        if (_rows >= RowGroupRows || _columns[Content].Bytes >= RowGroupBytes) FlushRowGroup();
        _columns[0].Add(repo);
        _columns[1].Add(path);
        _columns[2].Add(language);
        _columns[3].Add(license);
        _columns[4].Add(sha);
        _rows++;
        return _columns[Content].Reserve(contentBytes);
    }

    public void Add(CorpusRecord row)
    {
        var content = Add(row.Repo, row.Path, row.Language, row.License, row.Sha, Encoding.UTF8.GetByteCount(row.Content));
        Encoding.UTF8.GetBytes(row.Content, content);
    }

    /// <summary>Writes the last row group and the footer. The stream is left open.</summary>
    public void Finish()
    {
        if (_rows > 0) FlushRowGroup();
        WriteFooter();
    }

    public void Dispose() => _pages.Dispose();

    private void FlushRowGroup()
    {
        var chunks = new ChunkMeta[_columns.Length];
        for (int c = 0; c < _columns.Length; c++)
        {
            ref var chunk = ref chunks[c];
            chunk.Offset = _position;
            foreach (var page in _columns[c].TakePages())
            {
                var compressed = page.WaitCompressed(); // compressed by a pool thread meanwhile, or now by this one
                var header = PageHeader(page.Length, compressed.Length, page.Values);
                chunk.Uncompressed += header.Length + page.Length;
                chunk.Compressed += header.Length + compressed.Length;
                chunk.Values += page.Values;
                Write(header);
                Write(compressed.Span);
            }
        }
        _pages.RowGroupWritten();
        _groups.Add(chunks);
        _groupRows.Add(_rows);
        _totalRows += _rows;
        _rows = 0;
    }

    private byte[] PageHeader(int uncompressed, int compressed, int values)
    {
        var t = _thrift;
        t.Clear();
        t.I32(1, 0);            // type: DATA_PAGE
        t.I32(2, uncompressed);
        t.I32(3, compressed);
        t.BeginStruct(5);       // data_page_header
        t.I32(1, values);
        t.I32(2, 0);            // encoding: PLAIN
        t.I32(3, 3);            // definition levels: RLE (none are stored: every column is required)
        t.I32(4, 3);            // repetition levels: RLE (none are stored)
        t.EndStruct();
        t.End();
        return t.Written.ToArray();
    }

    private void WriteFooter()
    {
        var t = _thrift;
        t.Clear();
        t.I32(1, 1);                                   // version
        t.ListOfStructs(2, ColumnNames.Length + 1);    // schema: the root, then one leaf per column
        t.BeginListStruct();
        t.Binary(4, "schema");
        t.I32(5, ColumnNames.Length);
        t.EndStruct();
        foreach (var name in ColumnNames)
        {
            t.BeginListStruct();
            t.I32(1, 6);                               // type: BYTE_ARRAY
            t.I32(3, 0);                               // repetition: REQUIRED
            t.Binary(4, name);
            t.I32(6, 0);                               // converted type: UTF8
            t.BeginStruct(10);                         // logical type: STRING
            t.BeginStruct(1);
            t.EndStruct();
            t.EndStruct();
            t.EndStruct();
        }
        t.I64(3, _totalRows);
        t.ListOfStructs(4, _groups.Count);
        for (int g = 0; g < _groups.Count; g++) RowGroup(t, _groups[g], _groupRows[g]);
        t.Binary(6, $"CodeLm {typeof(CorpusParquetWriter).Assembly.GetName().Version}");
        t.End();

        Write(t.Written);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, t.Written.Length);
        Write(length);
        Write(Magic);
    }

    private static void RowGroup(ThriftCompact t, ChunkMeta[] chunks, int rows)
    {
        t.BeginListStruct();
        t.ListOfStructs(1, chunks.Length);
        for (int c = 0; c < chunks.Length; c++)
        {
            var m = chunks[c];
            t.BeginListStruct();
            t.I64(2, m.Offset);                         // file_offset
            t.BeginStruct(3);                           // meta_data
            t.I32(1, 6);                                // BYTE_ARRAY
            t.ListOfI32(2, [0]);                        // encodings: PLAIN
            t.ListOfBinary(3, [ColumnNames[c]]);
            t.I32(4, 6);                                // codec: ZSTD
            t.I64(5, m.Values);
            t.I64(6, m.Uncompressed);
            t.I64(7, m.Compressed);
            t.I64(9, m.Offset);                         // data_page_offset
            t.EndStruct();
            t.EndStruct();
        }
        t.I64(2, chunks.Sum(m => m.Uncompressed));      // total_byte_size
        t.I64(3, rows);
        t.EndStruct();
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        _stream.Write(bytes);
        _position += bytes.Length;
    }

    private struct ChunkMeta
    {
        public long Offset, Uncompressed, Compressed;
        public int Values;
    }
}
