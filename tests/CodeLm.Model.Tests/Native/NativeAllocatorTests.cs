using System.Runtime.InteropServices;
using CodeLm.Model.Native;

namespace CodeLm.Model.Tests.Native;

/// <summary>The in-process half of the allocator fix; the start-up half is tested through `codelm doctor` (Cli tests).</summary>
public class NativeAllocatorTests
{
    private const int MMmapMax = -4;

    [Fact]
    public void A_library_process_is_tuned_with_mallopt_once()
    {
        Torch.Init();
        Assert.Equal(AllocatorMode.Tuned, NativeAllocator.Mode); // CI runs on glibc Linux; a test host does not re-execute
        Assert.Equal(AllocatorMode.Tuned, NativeAllocator.Tune());
        // A 16 MiB tensor is far over glibc's mmap threshold: untuned it would be a mapping of its own (hblks counts them).
        long before = mallinfo2().MmappedBlocks;
        using (var t = TorchSharp.torch.ones(4L << 20)) Assert.Equal(before, mallinfo2().MmappedBlocks);
        Assert.Equal(1, mallopt(MMmapMax, 65536));
        try
        {
            using var t = TorchSharp.torch.ones(4L << 20);
            Assert.Equal(before + 1, mallinfo2().MmappedBlocks); // the check can tell
        }
        finally { Assert.Equal(1, mallopt(MMmapMax, 0)); }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
        public long MmappedBlocks => (long)HBlks;
    }

    [DllImport("libc")]
    private static extern MallInfo2 mallinfo2();

    [Fact]
    public void Process_usage_counts_cpu_time_and_faults()
    {
        var a = ProcessUsage.Now();
        var buffer = GC.AllocateUninitializedArray<byte>(64 << 20, pinned: true);
        for (int i = 0; i < buffer.Length; i += 4096) buffer[i] = 1;
        double spin = 0;
        for (int i = 0; i < 20_000_000; i++) spin += Math.Sqrt(i);
        var d = ProcessUsage.Now() - a;
        Assert.True(d.MinorFaults > 0 && d.UserSeconds > 0 && spin > 0, $"{d}");
        Assert.InRange(d.KernelShare, 0, 1);
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int option, int value);
}
