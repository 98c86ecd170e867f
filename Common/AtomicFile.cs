using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace CodeLm.Common;

/// <summary>
/// Temp-file-then-rename writes, shared by every stage (this project is the torch-free, BPE-free base every other one references):
/// a reader sees the old file or the new one, never half of one, and a crash leaves at most a `*.tmp` file behind.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        // Unique per call, so concurrent writers (threads or processes) never share a temp file.
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    /// <summary>Each line followed by "\n".</summary>
    public static void WriteAllLines(string path, IEnumerable<string> lines) => WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));

    public static void Copy(string source, string path) => Write(path, s => { using var src = File.OpenRead(source); src.CopyTo(s); });

    private static readonly Regex TempName = new(@"^\..+\.([0-9]+)\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Deletes the temp files in <paramref name="dir"/> that a killed writer left (their process is gone); returns how many.
    /// A live writer's files are kept, so this is safe while another process on this machine writes there (not one in
    /// another PID namespace, such as another container sharing the folder: it would look gone).
    /// </summary>
    public static int RemoveStale(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(dir, ".*.tmp"))
        {
            var m = TempName.Match(Path.GetFileName(file));
            if (!m.Success || !int.TryParse(m.Groups[1].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                || ProcessIsAlive(pid)) continue;
            try { File.Delete(file); removed++; } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>Whether a process with this id is running (temp names carry their writer's id).</summary>
    public static bool ProcessIsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
