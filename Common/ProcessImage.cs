using System.Runtime.InteropServices;

namespace CodeLm.Common;

/// <summary>Replaces the running process with another program (execve): same PID, same stdio, its exit code is ours.</summary>
public static class ProcessImage
{
    /// <summary>Returns only when execve failed (or off Linux); the caller then carries on in this process.</summary>
    public static unsafe void Replace(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp)
    {
        if (!OperatingSystem.IsLinux()) return;
        var handles = new List<IntPtr>();
        IntPtr* Block(IReadOnlyList<string> items)
        {
            var block = (IntPtr*)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(IntPtr));
            for (int i = 0; i < items.Count; i++) handles.Add(block[i] = Marshal.StringToCoTaskMemUTF8(items[i]));
            block[items.Count] = IntPtr.Zero;
            return block;
        }
        var exe = Marshal.StringToCoTaskMemUTF8(path);
        var a = Block(argv);
        var e = Block(envp);
        execve(exe, a, e);
        foreach (var h in handles) Marshal.FreeCoTaskMem(h);
        Marshal.FreeCoTaskMem(exe);
        NativeMemory.Free(a);
        NativeMemory.Free(e);
    }

    /// <summary>This process's environment as NAME=value lines, for <see cref="Replace"/>.</summary>
    public static List<string> Environment() =>
        System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").ToList();

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int execve(IntPtr path, IntPtr* argv, IntPtr* envp);
}
