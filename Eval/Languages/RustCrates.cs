using CodeLm.Common;
using System.Security.Cryptography;
using System.Text;
using CodeLm.Eval.Execution;

namespace CodeLm.Eval.Languages;

/// <summary>
/// The crates HumanEval-X's Rust prompts import (rand, regex, md5), built once per rustc into a per-user cache so each
/// candidate is a single offline <c>rustc --test</c>. regex and md5 come from Debian's packaged sources through cargo
/// with a directory source; rand is CodeLm's rand 0.4-compatible subset (<c>Rust/rand.rs</c>), because the tests call
/// rand 0.4's API and Debian ships only 0.8.
/// </summary>
public static class RustCrates
{
    public const string DebianRegistry = "/usr/share/cargo/registry";
    public const string InstallHint = "apt-get install rustc cargo librust-regex-dev librust-regex+default-dev librust-md5-dev";

    /// <summary>The crate directory (building it on first use), or why it cannot be built.</summary>
    public static async Task<(string? Dir, string? Error)> EnsureAsync(string rustc, CancellationToken ct)
    {
        var (exit, version) = await ChildProcess.RunAsync([rustc, "-vV"], Path.GetTempPath(), BaseEnv(rustc), TimeSpan.FromSeconds(30), ct);
        if (exit != 0) return (null, $"{rustc} -vV failed: {version.Trim()}");
        var dir = Path.Combine(CacheRoot(), Key(version));
        if (File.Exists(Path.Combine(dir, "librand.rlib"))) return (dir, null);
        var cargo = Toolchain.Find("cargo");
        if (cargo is null || !Directory.Exists(Path.Combine(DebianRegistry)))
            return (null, $"the crates Rust problems import cannot be built: cargo or Debian's crate sources are missing (fix: {InstallHint})");
        Console.Error.WriteLine($"codelm: building the Rust eval crates (regex, md5, rand) once into {dir}; this takes about a minute");
        var staging = Path.Combine(CacheRoot(), $".staging-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            var error = await BuildAsync(staging, rustc, cargo, ct);
            if (error != null) return (null, error);
            Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
            try { Directory.Move(Path.Combine(staging, "out"), dir); }
            catch (IOException) when (File.Exists(Path.Combine(dir, "librand.rlib"))) { } // another run finished first
            return (dir, null);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>The rlib a crate name resolves to in a built crate directory.</summary>
    public static string Rlib(string dir, string crate) =>
        File.Exists(Path.Combine(dir, $"lib{crate}.rlib")) ? $"lib{crate}.rlib"
            : Path.GetFileName(Directory.GetFiles(dir, $"lib{crate}-*.rlib").Single());

    private static async Task<string?> BuildAsync(string staging, string rustc, string cargo, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.Combine(staging, "src"));
        Directory.CreateDirectory(Path.Combine(staging, ".cargo"));
        Directory.CreateDirectory(Path.Combine(staging, "out"));
        File.WriteAllText(Path.Combine(staging, "Cargo.toml"),
            "[package]\nname = \"codelm-eval-crates\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nregex = \"1\"\nmd5 = \"0.7\"\n");
        File.WriteAllText(Path.Combine(staging, "src", "lib.rs"), "pub use md5;\npub use regex;\n");
        File.WriteAllText(Path.Combine(staging, ".cargo", "config.toml"),
            $"[source.crates-io]\nreplace-with = \"debian\"\n\n[source.debian]\ndirectory = \"{DebianRegistry}\"\n\n[net]\noffline = true\n");
        var env = new Dictionary<string, string>(BaseEnv(rustc)) { ["RUSTC"] = rustc, ["CARGO_HOME"] = Path.Combine(staging, ".cargo-home") };
        var (exit, output) = await ChildProcess.RunAsync([cargo, "build", "--release", "--offline", "--quiet"], staging, env, TimeSpan.FromMinutes(15), ct);
        if (exit != 0) return $"cargo could not build regex and md5 from {DebianRegistry} (fix: {InstallHint}): {CandidateExecutor.Excerpt(output, 400)}";
        foreach (var rlib in Directory.GetFiles(Path.Combine(staging, "target", "release", "deps"), "*.rlib"))
            if (!Path.GetFileName(rlib).StartsWith("libcodelm_eval_crates", StringComparison.Ordinal))
                File.Copy(rlib, Path.Combine(staging, "out", Path.GetFileName(rlib)));
        var shim = Path.Combine(staging, "rand.rs");
        File.WriteAllText(shim, RandSource());
        (exit, output) = await ChildProcess.RunAsync([rustc, "--edition", "2021", "--crate-type", "rlib", "--crate-name", "rand", "-C", "opt-level=2",
            "-o", Path.Combine(staging, "out", "librand.rlib"), shim], staging, env, TimeSpan.FromMinutes(5), ct);
        return exit == 0 ? null : $"rustc could not build the rand subset: {CandidateExecutor.Excerpt(output, 400)}";
    }

    private static Dictionary<string, string> BaseEnv(string rustc) => new()
    {
        ["PATH"] = Path.GetDirectoryName(rustc) + ":/usr/bin:/bin", ["HOME"] = Path.GetTempPath(), ["LANG"] = "C.UTF-8",
    };

    private static string RandSource()
    {
        using var stream = typeof(RustCrates).Assembly.GetManifestResourceStream("CodeLm.Eval.Languages.Rust.rand.rs")
            ?? throw new InvalidOperationException("the rand subset's source is missing from the assembly");
        return new StreamReader(stream).ReadToEnd();
    }

    // A new rustc, new Debian crate sources or a changed rand subset each get a fresh build.
    private static string Key(string rustcVersion)
    {
        var crates = Directory.Exists(DebianRegistry) ? string.Join(',', Directory.GetDirectories(DebianRegistry).Select(Path.GetFileName).Order()) : "";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(rustcVersion + "\n" + crates + "\n" + RandSource()));
        return Convert.ToHexString(hash)[..16].ToLowerInvariant();
    }

    private static string CacheRoot() => Path.Combine(CacheDirectory.Root, "rust-eval-crates");
}
