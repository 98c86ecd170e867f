using CodeLm.Common;

namespace CodeLm.Cli;

/// <summary>
/// Hands `codelm data crawl|clean|build` to the Native AOT build of the same commands (DataCli, `codelm-data`). A cold
/// JIT-compiled process spends about half of a shared-corpus build compiling Roslyn and the pipeline; the AOT binary
/// does the same work, byte for byte, without that (docs/benchmarks.md, "codelm data build").
/// </summary>
public static class NativeDataCommand
{
    public const string FileName = "codelm-data";

    /// <summary>0: run the data commands in this process; a path: the codelm-data to use; unset: the one next to codelm, if any.</summary>
    public const string Variable = "CODELM_NATIVE_DATA";

    /// <summary>
    /// Returns only when the command stays here (another command, no binary, opted out, or exec failed), with null, or
    /// with the error line when <see cref="Variable"/> names a file that does not exist.
    /// </summary>
    public static string? ExecIfPresent(string[] args)
    {
        if (args is not ["data", "crawl" or "clean" or "build" or "stage", ..] || args.Contains("kubernetes")) return null;
        var chosen = Environment.GetEnvironmentVariable(Variable);
        if (chosen == "0") return null;
        var exe = string.IsNullOrEmpty(chosen) ? Path.Combine(AppContext.BaseDirectory, FileName) : Path.GetFullPath(chosen);
        if (!File.Exists(exe))
        {
            if (string.IsNullOrEmpty(chosen)) return null;
            return $"codelm data {args[1]}: error: {Variable}={chosen}, but there is no such file; build it with `dotnet build Cli -c Release -p:NativeData=true`, or unset {Variable}";
        }
        if (Environment.GetEnvironmentVariable("CODELM_DEBUG") == "1") Console.Error.WriteLine($"codelm: running `data {args[1]}` as {exe}");
        ProcessImage.Replace(exe, [exe, .. args], ProcessImage.Environment());
        return null;
    }
}
