using System.CommandLine;
using System.Globalization;
using CodeLm.Model.Native;

namespace CodeLm.Cli;

/// <summary><c>codelm doctor</c>: loads the model runtime, says which native libraries it runs on, and trains a tiny net.</summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var steps = new Option<int>("--steps") { Description = "Adam steps of the smoke training run.", DefaultValueFactory = _ => 50 };
        var cmd = new Command("doctor",
            "Check the model runtime: how TorchSharp's native glue loaded, which libtorch runs (set CODELM_LIBTORCH_DIR to use " +
            "another, e.g. a GPU machine's PyTorch), whether CUDA is available, and that a tiny net learns on the device.")
        {
            device, steps,
        };
        cmd.SetAction(parse =>
        {
            var r = RuntimeCheck.Run(parse.GetValue(device)!, Math.Max(2, parse.GetValue(steps)));
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"native glue:   {r.LoaderMode}{(r.PatchedPath is { } p ? $" ({p})" : "")}");
            Console.WriteLine($"libtorch:      {TorchNativeLoader.LibtorchDir ?? "(TorchSharp's own probing)"}{(Environment.GetEnvironmentVariable(TorchNativeLoader.LibtorchDirVariable) is { Length: > 0 } ? $" (from {TorchNativeLoader.LibtorchDirVariable})" : "")}");
            Console.WriteLine($"mapped:        {r.LibtorchMapped ?? "(unknown)"}");
            Console.WriteLine($"torch:         {r.TorchVersion}, {r.Threads} threads");
            Console.WriteLine($"allocator:     {NativeAllocator.Describe()}; 4 reallocations of a 128 MiB tensor on a worker thread: {r.ReallocationFaults.ToString(inv)} page faults");
            Console.WriteLine($"cuda:          {(r.CudaAvailable ? $"available, {r.CudaDevices} device(s)" : "not available")}");
            var learned = r.LossAfter < r.LossBefore * 0.5;
            Console.WriteLine($"smoke run:     {r.Device}, loss {r.LossBefore.ToString("F4", inv)} -> {r.LossAfter.ToString("F4", inv)} in {r.Milliseconds.ToString("F0", inv)} ms: {(learned ? "ok" : "NOT LEARNING")}");
            return learned ? 0 : 1;
        });
        return cmd;
    }
}
