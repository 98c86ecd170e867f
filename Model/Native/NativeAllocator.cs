using System.Runtime.InteropServices;
using System.Text;
using CodeLm.Common;

namespace CodeLm.Model.Native;

/// <summary>What CodeLm did to the C allocator that libtorch's CPU tensors come from.</summary>
public enum AllocatorMode
{
    /// <summary>The process started with CodeLm's malloc tunables: one arena, no mmap for large blocks, no trimming.</summary>
    TunedAtStart,
    /// <summary>Tuned with mallopt while running (library use): large blocks allocated on the main thread are reused.</summary>
    Tuned,
    /// <summary>Left as it was: CODELM_MALLOC=system, or GLIBC_TUNABLES already set malloc options.</summary>
    LeftAsIs,
    /// <summary>Not glibc (musl, macOS, Windows): nothing to tune.</summary>
    NotGlibc,
}

/// <summary>
/// Stops glibc malloc from paying the kernel for every large tensor.
///
/// glibc serves each allocation over its mmap threshold (at most 32 MiB, while a `tiny` step's logits alone are 33 MB)
/// with a fresh mmap and returns it with munmap on free, and trims the heap top back to the kernel. libtorch frees and
/// reallocates the same buffers every training step, so every step faulted ~38,000 fresh zeroed pages and spent ~29 %
/// of its CPU time in the kernel: 3x slower training. With mmap off and trimming off, the next step reuses pages that
/// are already mapped; the heap stays at the run's high-water mark (RSS over 1,000 steps is flat: docs/benchmarks.md,
/// "Allocator").
///
/// Threads other than the main one get their own glibc arenas, made of 64 MiB heaps that glibc unmaps whenever one
/// empties and that cannot hold a larger block at all (mmap again), whatever mallopt says. The quickstart trains and
/// the server decodes on such threads, so the `codelm` command sets the options as GLIBC_TUNABLES with a single arena and
/// re-executes itself once at start-up (<see cref="ReexecuteTuned"/>), before any arena exists. A library user's process
/// gets the mallopt half (<see cref="Tune"/>), which covers tensors allocated on its main thread.
///
/// The thread cache is off too: libtorch allocates tensors with posix_memalign, whose small leftover pieces glibc 2.36
/// parks in the thread cache, where they keep a freed block from merging with its neighbours; a same-size block was then
/// carved afresh nine times before one was reused (nine times the memory). Without the cache, twice.
/// </summary>
public static class NativeAllocator
{
    /// <summary>Set to "system" to leave the C allocator as the platform configured it (for comparison runs).</summary>
    public const string Variable = "CODELM_MALLOC";

    /// <summary>The tunables the re-executed process starts with; also given to PyTorch anchors in benchmarks.</summary>
    public const string Tunables = "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647:glibc.malloc.tcache_count=0";

    // Carries the user's own GLIBC_TUNABLES across the re-exec, so child processes (eval candidates, git) get theirs back.
    private const string Marker = "CODELM_MALLOC_REEXEC";
    private const int MTrimThreshold = -1, MMmapMax = -4; // malloc.h

    private static readonly object Gate = new();
    private static AllocatorMode? _mode;

    /// <summary>What was done (tuning with mallopt on first use, if the process did not start tuned).</summary>
    public static AllocatorMode Mode => Tune();

    /// <summary>
    /// For an executable's first line: re-executes the process with <see cref="Tunables"/> unless it already runs with
    /// them (or the user chose otherwise), and in the re-executed process restores the user's environment for children.
    /// Returns only if no re-exec happened; a failed execve is not fatal (<see cref="Tune"/> still applies).
    /// </summary>
    public static void ReexecuteTuned()
    {
        if (Environment.GetEnvironmentVariable(Marker) is { } original)
        {
            Environment.SetEnvironmentVariable(Marker, null);
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", original.Length == 0 ? null : original);
            lock (Gate) _mode = AllocatorMode.TunedAtStart;
            return;
        }
        if (!IsGlibc(out _) || UserChoseOtherwise() || !File.Exists("/proc/self/cmdline")) return;
        var argv = File.ReadAllBytes("/proc/self/cmdline");
        var userTunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "";
        var env = ProcessImage.Environment()
            .Where(e => !e.StartsWith("GLIBC_TUNABLES=", StringComparison.Ordinal))
            .Append($"GLIBC_TUNABLES={(userTunables.Length > 0 ? userTunables + ":" : "")}{Tunables}")
            .Append($"{Marker}={userTunables}");
        // Returns only on failure: carry on untuned-at-start, Tune() still applies.
        ProcessImage.Replace("/proc/self/exe", Split(argv), env.ToList());
    }

    /// <summary>Tunes glibc malloc with mallopt once per process, unless it started tuned; later calls return the first outcome.</summary>
    public static AllocatorMode Tune()
    {
        lock (Gate)
        {
            return _mode ??= Apply();
        }
    }

    private static AllocatorMode Apply()
    {
        if (!IsGlibc(out var libc)) return AllocatorMode.NotGlibc;
        if (UserChoseOtherwise() || !NativeLibrary.TryGetExport(libc, "mallopt", out var mallopt)) return AllocatorMode.LeftAsIs;
        return SetOptions(mallopt) ? AllocatorMode.Tuned : AllocatorMode.LeftAsIs;
    }

    private static bool UserChoseOtherwise() =>
        string.Equals(Environment.GetEnvironmentVariable(Variable), "system", StringComparison.OrdinalIgnoreCase) ||
        (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "").Contains("glibc.malloc.", StringComparison.Ordinal);

    // musl and others have no gnu_get_libc_version; their malloc has other knobs, or none.
    private static bool IsGlibc(out IntPtr libc)
    {
        libc = IntPtr.Zero;
        return OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out libc) && NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _);
    }

    /// <summary>The C library's version ("2.36"), or null where it is not glibc.</summary>
    public static unsafe string? GlibcVersion =>
        IsGlibc(out var libc) && NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out var f)
            ? Marshal.PtrToStringAnsi((IntPtr)((delegate* unmanaged<byte*>)f)()) : null;

    /// <summary>
    /// Page faults of reallocating and filling a 128 MiB tensor <paramref name="cycles"/> times on a fresh (non-main)
    /// thread, after three warm-up cycles: about 32,768 a cycle when every buffer is mapped anew, near zero when reused.
    /// </summary>
    public static long ReallocationFaults(int cycles = 4)
    {
        TorchNativeLoader.EnsureLoaded();
        long faults = 0;
        var worker = new Thread(() =>
        {
            static void Cycle() { using var t = TorchSharp.torch.ones(32L << 20); }
            for (int i = 0; i < 3; i++) Cycle();
            var before = ProcessUsage.Now();
            for (int i = 0; i < cycles; i++) Cycle();
            faults = (ProcessUsage.Now() - before).MinorFaults;
        });
        worker.Start();
        worker.Join();
        return faults;
    }

    private static unsafe bool SetOptions(IntPtr mallopt)
    {
        var set = (delegate* unmanaged<int, int, int>)mallopt;
        // mallopt returns 1 on success; the trim threshold first, since it also freezes glibc's dynamic mmap threshold.
        return set(MTrimThreshold, int.MaxValue) == 1 && set(MMmapMax, 0) == 1;
    }

    private static string[] Split(byte[] nulSeparated) =>
        Encoding.UTF8.GetString(nulSeparated).TrimEnd('\0').Split('\0');

    /// <summary>One line for logs and `codelm doctor`.</summary>
    public static string Describe() => Mode switch
    {
        AllocatorMode.TunedAtStart => "glibc malloc tuned at start-up: one arena, large blocks kept for reuse (mmap off, no trimming, no thread cache)",
        AllocatorMode.Tuned => "glibc malloc tuned with mallopt: large blocks kept for reuse on the main thread (mmap off, no trimming)",
        AllocatorMode.LeftAsIs => $"glibc malloc left as configured ({Variable}=system, or GLIBC_TUNABLES sets malloc options)",
        _ => "not glibc: the platform allocator, untouched",
    };
}
