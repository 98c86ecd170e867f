namespace CodeLm.Eval.Execution;

/// <summary>Copies what a runner's set-up built into each candidate's work directory (a candidate may write to its copy).</summary>
public static class FileTree
{
    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from))
            Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}
