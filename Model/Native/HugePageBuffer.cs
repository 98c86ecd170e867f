using System.Runtime.InteropServices;

namespace CodeLm.Model.Native;

/// <summary>
/// Native memory for large arrays the CPU streams end to end on every decoding step (int8 weights), backed by 2 MiB
/// pages where Linux gives them: fewer page walks for a read that touches every page once. On this (virtualised)
/// machine a plain read of 136 MB ran at 26.9 against 20.0 GB/s on 4 KiB pages, and the int8 product of a 0.5B model's
/// head at 23.3 against 21.9 GB/s (docs/benchmarks.md, "Open models against llama.cpp").
///
/// On Linux the block is mapped here rather than taken from malloc: transparent huge pages are opt-in on such systems
/// ("madvise"), and only pages not yet touched can become huge, while the tuned malloc (<see cref="NativeAllocator"/>)
/// hands out heap pages that earlier tensors already faulted in as 4 KiB ones.
/// </summary>
public sealed unsafe class HugePageBuffer : IDisposable
{
    private const long HugePage = 2 << 20;
    private byte* _pointer;
    private readonly nint _mapping; // what munmap takes back on Linux; 0 where the block came from NativeMemory
    private readonly nuint _mappedBytes;

    /// <summary>False maps new buffers with the system's default pages (for comparison runs in benchmarks).</summary>
    public static bool Enabled { get; set; } = true;

    public HugePageBuffer(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Length = bytes;
        if (OperatingSystem.IsLinux() && bytes >= HugePage)
        {
            // Map one huge page more than asked, so the block can start on a huge-page boundary.
            _mappedBytes = (nuint)(bytes + HugePage);
            _mapping = mmap(0, _mappedBytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (_mapping == -1) throw new OutOfMemoryException($"Could not map {bytes / (1 << 20)} MiB for inference weights (errno {Marshal.GetLastPInvokeError()}).");
            var aligned = (_mapping + (nint)(HugePage - 1)) & ~(nint)(HugePage - 1);
            if (Enabled) madvise(aligned, (nuint)bytes, MadvHugePage); // advice: a kernel without THP refuses, and 4 KiB pages still work
            _pointer = (byte*)aligned;
        }
        else _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);
        GC.AddMemoryPressure(Math.Max(bytes, 1));
    }

    public long Length { get; }

    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(HugePageBuffer));

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~HugePageBuffer() => Free();

    private void Free()
    {
        if (_pointer == null) return;
        if (_mapping != 0) munmap(_mapping, _mappedBytes);
        else NativeMemory.AlignedFree(_pointer);
        _pointer = null;
        GC.RemoveMemoryPressure(Math.Max(Length, 1));
    }

    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20, MadvHugePage = 14; // <sys/mman.h>, Linux x86-64 and arm64

    [DllImport("libc", SetLastError = true)]
    private static extern nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int munmap(nint address, nuint length);

    [DllImport("libc", SetLastError = true)]
    private static extern int madvise(nint address, nuint length, int advice);
}
