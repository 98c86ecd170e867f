namespace CodeLm.Tests;

/// <summary>Runs the real `codelm` command (the built codelm.dll) as a child process.</summary>
public static class CodeLmCli
{
    public static string DllPath { get; } = Find();

    public static Proc.Result Run(params string[] args) => Run(args, cwd: null);

    public static Proc.Result Run(IEnumerable<string> args, string? cwd, int timeoutMs = 600_000, IDictionary<string, string>? env = null) =>
        Proc.Run("dotnet", new[] { DllPath }.Concat(args), cwd, timeoutMs, env);

    private static string Find()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "codelm.dll");
        if (File.Exists(beside)) return beside;
        var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var built = Path.Combine(TestPaths.RepoRoot, "Cli", "bin", config, "net10.0", "codelm.dll");
        if (File.Exists(built)) return built;
        throw new FileNotFoundException($"codelm.dll not found beside the tests or at {built}; build Cli/CodeLm.Cli.csproj first.");
    }
}
