namespace CodeLm.Eval.Execution;

/// <summary>Finds executables, system directories first: a tool under a private home (pyenv shims) is unreadable to the sandbox uid.</summary>
public static class Toolchain
{
    private static readonly string[] SystemDirs = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/lib/go/bin", "/usr/local/go/bin"];

    public static string? Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in SystemDirs.Concat(path.Split(':', StringSplitOptions.RemoveEmptyEntries)))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
