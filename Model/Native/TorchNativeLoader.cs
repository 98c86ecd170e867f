using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using CodeLm.Common;
using CodeLm.Tokenizer;
using TorchSharp;

namespace CodeLm.Model.Native;

/// <summary>
/// Loads TorchSharp's native glue (libLibTorchSharp.so) before TorchSharp does.
///
/// TorchSharp 0.107's glue is built with GCC 13 and records a need for GLIBCXX_3.4.32, which the libstdc++ of
/// Debian 12 / Ubuntu 22.04 lacks. The only symbol bound to that version (std::ios_base_library_init) is
/// referenced to force the dependency and never relocated, so a copy with that one requirement marked weak loads
/// and runs. Where the original loads, it is used unchanged; the NuGet cache and build output are never edited.
/// </summary>
public static class TorchNativeLoader
{
    public const string GlueFile = "libLibTorchSharp.so";
    private const string LibStdCxx = "libstdc++.so.6";
    private const string MissingVersion = "GLIBCXX_3.4.32";

    private static readonly object Gate = new();
    private static IntPtr _glue;

    /// <summary>How the glue was loaded: "original", "patched", or "platform" (TorchSharp's own loader, off Linux).</summary>
    public static string? Mode { get; private set; }

    /// <summary>The patched copy in use, when one was needed.</summary>
    public static string? PatchedPath { get; private set; }

    /// <summary>
    /// CODELM_LIBTORCH_DIR: a libtorch lib/ folder to use instead of the package's, such as a GPU machine's PyTorch
    /// (`python3 -c "import torch, os; print(os.path.dirname(torch.__file__) + '/lib')"`). Its libraries are loaded by full
    /// path before the glue, so the glue's needs resolve to them by soname. The glue is bound to its libtorch's C++ ABI:
    /// check a folder first with scripts/gpu-probe.sh (docs/gpu.md).
    /// </summary>
    public const string LibtorchDirVariable = "CODELM_LIBTORCH_DIR";

    /// <summary>The folder libtorch was loaded from (the override, else the package's native folder), once loaded.</summary>
    public static string? LibtorchDir { get; private set; }

    private static readonly string[] LibtorchLibraries = ["libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so"];

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (Mode != null) return;
            NativeAllocator.Tune(); // before libtorch allocates its first buffer
            var overrideDir = Environment.GetEnvironmentVariable(LibtorchDirVariable) is { Length: > 0 } d ? d : null;
            var nativeDir = OperatingSystem.IsLinux() ? FindNativeDir() : null;
            if (nativeDir == null)
            {
                if (overrideDir != null)
                    throw new InvalidOperationException($"{LibtorchDirVariable} is set, but it can only be honoured on Linux with " +
                        $"TorchSharp's {GlueFile} in the build output; unset it.");
                Mode = "platform"; // another OS or an unusual layout: let TorchSharp probe itself
                return;
            }

            var libtorchDir = nativeDir;
            if (overrideDir != null)
            {
                if (!File.Exists(Path.Combine(overrideDir, "libtorch_cpu.so")))
                    throw new InvalidOperationException($"{LibtorchDirVariable} is '{overrideDir}', which has no libtorch_cpu.so. " +
                        $"Point it at a libtorch lib/ folder (for PyTorch: the torch package's lib/), or unset it to use the packaged libtorch.");
                libtorchDir = Path.GetFullPath(overrideDir);
                PreloadLibtorch(libtorchDir);
            }
            LibtorchDir = libtorchDir;

            var original = Path.Combine(nativeDir, GlueFile);
            if (TryLoad(original, out _glue, out var originalError))
            {
                Mode = "original";
                CheckOverrideTookEffect(overrideDir, nativeDir);
                return;
            }
            if (!originalError.Contains(MissingVersion, StringComparison.Ordinal))
                throw LoadFailure(original, originalError, null, null);

            string patched;
            try { patched = CreatePatchedCopy(original); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                throw LoadFailure(original, originalError, CacheDir(), e.Message);
            }

            // The copy lives outside the package folder, so its $ORIGIN runpath no longer finds libtorch:
            // load libtorch's libraries first, by full path, and the loader resolves DT_NEEDED by soname.
            if (overrideDir == null) PreloadLibtorch(libtorchDir); // an override was loaded above
            if (!TryLoad(patched, out _glue, out var patchedError))
                throw LoadFailure(original, originalError, patched, patchedError);

            PatchedPath = patched;
            Mode = "patched";
            CheckOverrideTookEffect(overrideDir, nativeDir);
            var torchAssembly = typeof(torch).Assembly;
            NativeLibrary.SetDllImportResolver(torchAssembly, ResolveGlue);
            // TorchSharp also probes with NativeLibrary.TryLoad(name, assembly), which ends at this event.
            AssemblyLoadContext.Default.ResolvingUnmanagedDll += (asm, name) => asm == torchAssembly ? ResolveGlue(name, asm, null) : IntPtr.Zero;
        }
    }

    /// <summary>Where <paramref name="library"/> (e.g. libtorch_cpu.so) is mapped in this process, from /proc/self/maps.</summary>
    public static string? MappedPath(string library) => MappedPaths(library).FirstOrDefault();

    private static List<string> MappedPaths(string library) =>
        !File.Exists("/proc/self/maps") ? [] :
        File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && Path.GetFileName(f[5]) == library).Select(f => f[5]).Distinct().ToList();

    // The glue finds libtorch by soname: a folder whose libraries carry other sonames (libtorch.so.1.13) is loaded but not
    // used, and the glue's own $ORIGIN finds the packaged one. Say so rather than run on a libtorch nobody asked for.
    private static void CheckOverrideTookEffect(string? overrideDir, string packagedDir)
    {
        var all = MappedPaths("libtorch_cpu.so").Select(p => Path.GetDirectoryName(p)!).Distinct().ToList();
        if (overrideDir == null || all.Count == 0) return;
        // Compared with the packaged folder rather than the override's own path, which may be spelled through symlinks.
        if (all.Count == 1 && all[0] != Path.TrimEndingDirectorySeparator(packagedDir)) return;
        throw new InvalidOperationException($"{LibtorchDirVariable} is '{overrideDir}', but libtorch_cpu.so was also or instead " +
            $"loaded from {string.Join(" and ", all)}: the glue binds libtorch by soname (libtorch.so, libc10.so, libtorch_cpu.so), " +
            "which that folder's libraries must have. Check it with scripts/gpu-probe.sh (docs/gpu.md), or unset the variable.");
    }

    private static void PreloadLibtorch(string dir)
    {
        foreach (var name in LibtorchLibraries)
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) NativeLibrary.Load(path);
        }
    }

    private static IntPtr ResolveGlue(string name, Assembly assembly, DllImportSearchPath? path) =>
        name is "LibTorchSharp" or "libLibTorchSharp" or GlueFile ? _glue : IntPtr.Zero;

    /// <summary>Writes (once, atomically) a copy of <paramref name="original"/> with the GLIBCXX_3.4.32 need marked weak.</summary>
    public static string CreatePatchedCopy(string original)
    {
        var bytes = File.ReadAllBytes(original);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
        var dir = Path.Combine(CacheDir(), "native", hash);
        var target = Path.Combine(dir, GlueFile);
        if (File.Exists(target)) return target;

        if (ElfVersionNeeds.MarkWeak(bytes, LibStdCxx, MissingVersion) == 0)
            throw new InvalidDataException($"{original} has no {MissingVersion} requirement to relax.");
        AtomicFile.WriteAllBytes(target, bytes);
        return target;
    }

    /// <summary>CODELM_CACHE, else $XDG_CACHE_HOME/codelm, else ~/.cache/codelm.</summary>
    public static string CacheDir() => CacheDirectory.Root;

    /// <summary>The folder holding the glue: next to the app (RID-specific publish) or under runtimes/linux-x64/native.</summary>
    public static string? FindNativeDir()
    {
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var roots = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? "" };
        foreach (var root in roots.Where(r => r.Length > 0).Distinct())
            foreach (var dir in new[] { root, Path.Combine(root, "runtimes", rid, "native") })
                if (File.Exists(Path.Combine(dir, GlueFile))) return dir;
        return null;
    }

    private static bool TryLoad(string path, out IntPtr handle, out string error)
    {
        try
        {
            handle = NativeLibrary.Load(path);
            error = "";
            return true;
        }
        catch (DllNotFoundException e)
        {
            handle = IntPtr.Zero;
            error = e.Message;
            return false;
        }
    }

    private static Exception LoadFailure(string original, string originalError, string? patched, string? patchedError)
    {
        var msg = $"TorchSharp's native library could not be loaded.\n  tried: {original}\n  error: {originalError}";
        if (patched != null)
            msg += $"\n  tried a copy with the {MissingVersion} need relaxed: {patched}\n  error: {patchedError}";
        if (Environment.GetEnvironmentVariable(LibtorchDirVariable) is { Length: > 0 } overrideDir)
            return new InvalidOperationException(msg + $"\n{LibtorchDirVariable} is set to '{overrideDir}': that libtorch must provide " +
                "libtorch.so, libtorch_cpu.so and libc10.so with the C++ ABI the glue was built for (list what is missing with " +
                "scripts/gpu-probe.sh GLUE DIR; see docs/gpu.md). Unset it to use the packaged libtorch.");
        msg += "\nFix: install a libstdc++ that provides " + MissingVersion +
               " (GCC 13 or newer, e.g. Debian 13 or Ubuntu 24.04), or make sure the cache folder is writable " +
               "(set CODELM_CACHE to another folder). Check that libtorch-cpu-linux-x64 restored completely.";
        return new InvalidOperationException(msg);
    }
}
