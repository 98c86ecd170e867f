namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// An append-only temp file holding the cleaned text of every candidate file between the scan and the write pass, so
/// memory holds only per-file metadata and MinHash signatures, never the corpus itself. Deleted when disposed.
/// </summary>
internal sealed class ContentSpill : IDisposable
{
    public const string Prefix = ".codelm-spill-";
    private readonly FileStream _stream;
    private readonly Lock _lock = new();
    public string Path { get; }

    /// <summary>A spill kept as <paramref name="file"/> (a staged build's clean rank hands it to the write stage).</summary>
    public static ContentSpill Keep(string file) => new(new FileStream(file, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1 << 20), file);

    /// <summary>An existing spill file, to read from.</summary>
    public static ContentSpill Open(string file) => new(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), file);

    private ContentSpill(FileStream stream, string path) => (_stream, Path) = (stream, path);

    public ContentSpill(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var stale in Directory.GetFiles(directory, Prefix + "*")) TryDelete(stale);
        Path = System.IO.Path.Combine(directory, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1 << 20, FileOptions.DeleteOnClose);
    }

    /// <summary>Appends the UTF-8 text and returns where it lies.</summary>
    public (long Offset, int Length) Append(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            long offset = _stream.Position;
            _stream.Write(bytes);
            return (offset, bytes.Length);
        }
    }

    public void FinishWriting()
    {
        lock (_lock) _stream.Flush();
    }

    /// <summary>Reads the UTF-8 bytes at <paramref name="offset"/> into all of <paramref name="into"/>.</summary>
    public void ReadInto(long offset, Span<byte> into)
    {
        int read = 0;
        while (read < into.Length)
        {
            int n = RandomAccess.Read(_stream.SafeFileHandle, into[read..], offset + read);
            if (n == 0) throw new IOException($"spill file {Path} is truncated");
            read += n;
        }
    }

    public void Dispose() => _stream.Dispose();

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
