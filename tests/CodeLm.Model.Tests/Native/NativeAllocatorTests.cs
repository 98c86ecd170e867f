using CodeLm.Model.Native;

namespace CodeLm.Model.Tests.Native;

/// <summary>The in-process half of the allocator fix; the start-up half is tested through `codelm doctor` (Cli tests).</summary>
public class NativeAllocatorTests
{
    [Fact]
    public void A_library_process_is_tuned_with_mallopt_once()
    {
        Torch.Init();
        Assert.Equal(AllocatorMode.Tuned, NativeAllocator.Mode); // CI runs on glibc Linux; a test host does not re-execute
        Assert.Equal(AllocatorMode.Tuned, NativeAllocator.Tune());
        Assert.Matches(@"^2\.\d+", NativeAllocator.GlibcVersion);
        // What the options do to page faults is asserted in fresh processes (Cli DoctorTests): in this shared test
        // process, earlier tests' freed blocks answer large requests whatever the options say.
    }

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

}
