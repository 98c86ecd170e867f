namespace CodeLm.Eval.Scoring;

/// <summary>Writes files via a temp file in the same directory and a rename, so readers never see half a file.</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, text);
        File.Move(tmp, full, overwrite: true);
    }

    public static void WriteAllLines(string path, IEnumerable<string> lines) =>
        WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
}
