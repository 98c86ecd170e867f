using System.Runtime.InteropServices;

namespace CodeLm.Model.Native;

/// <summary>
/// This process's CPU time split into user and kernel, and its page faults, from getrusage(2): where the time of a
/// training step goes when it is not in the maths (docs/benchmarks.md, "Allocator").
/// </summary>
public readonly record struct ProcessUsage(double UserSeconds, double KernelSeconds, long MinorFaults, long MajorFaults, long MaxRssKib)
{
    public static ProcessUsage Now()
    {
        if (!OperatingSystem.IsLinux()) return default;
        var r = new RUsage();
        if (getrusage(0, ref r) != 0) return default; // RUSAGE_SELF
        return new ProcessUsage(r.UserSec + r.UserUsec / 1e6, r.SysSec + r.SysUsec / 1e6, r.MinFlt, r.MajFlt, r.MaxRss);
    }

    public static ProcessUsage operator -(ProcessUsage a, ProcessUsage b) =>
        new(a.UserSeconds - b.UserSeconds, a.KernelSeconds - b.KernelSeconds, a.MinorFaults - b.MinorFaults, a.MajorFaults - b.MajorFaults, a.MaxRssKib);

    /// <summary>The kernel's share of the CPU time.</summary>
    public double KernelShare => UserSeconds + KernelSeconds > 0 ? KernelSeconds / (UserSeconds + KernelSeconds) : 0;

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSec, UserUsec, SysSec, SysUsec;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NivCsw;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, ref RUsage usage);
}
