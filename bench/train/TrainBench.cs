using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Model;
using CodeLm.Model.Native;
using CodeLm.Model.Training;
using static TorchSharp.torch;

namespace CodeLm.Bench.Train;

public sealed record BenchSettings(string Work, string Shards, string Preset, int Batch, int Seq, int Threads, string Python)
{
    /// <summary>cpu or cuda; on cuda the trainer runs bf16 with fp32 master weights and PyTorch runs bf16 autocast.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Also time PyTorch with torch.compile (PyTorch 2.0+).</summary>
    public bool Compile { get; init; }
    /// <summary>The hardware's peak FLOP/s for MFU (e.g. 989e12 for an H100 SXM in dense bf16); the matmul probe is reported too.</summary>
    public double? PeakFlops { get; init; }
    public bool Cuda => Device.StartsWith("cuda", StringComparison.Ordinal);
}

/// <summary>
/// Runs the real <see cref="Trainer"/> and writes the exact micro-batches it consumed, then replays them through an
/// equivalent PyTorch loop (torch_loop.py) from the same initial weights, alternating the two so load from other
/// processes hits both alike.
/// </summary>
public static class TrainBench
{
    private const int Seed = 1234;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Throughput(BenchSettings s, int rounds, int steps)
    {
        var rows = new List<(double Cs, double Py, double PyCompiled, double Probe, double Flops, double Faults, double Kernel)>();
        var probeType = s.Cuda ? ScalarType.BFloat16 : ScalarType.Float32;
        Native();
        var cpuPeak = s.Cuda ? null : CpuPeak.Measure(s.Threads);
        double? peak = s.PeakFlops ?? cpuPeak?.FlopsPerSecond;
        if (cpuPeak != null)
            Console.WriteLine(string.Create(Inv, $"CPU peak fp32: {cpuPeak.FlopsPerSecond / 1e9:F1} GFLOP/s measured ({cpuPeak.Method}); " +
                $"= {cpuPeak.FlopsPerSecond / (s.Threads * 2 * 2 * 8) / 1e9:F2} GHz if each core issues two 256-bit FMAs a cycle"));
        for (int r = 0; r < rounds; r++)
        {
            double probe = MatmulProbe.Measure(CodeLm.Model.Native.Devices.Resolve(s.Device), probeType);
            var run = RunTrainer(s, $"tp-{r}", steps, lr: 6e-4, warmup: 2, evalBatches: 1, peak: peak ?? probe);
            double csTps = Median(run.StepSeconds.Skip(1).Select(t => s.Batch * s.Seq / t));
            double pyTps = PythonTokensPerSecond(s, run, steps, compile: false);
            double pyCompiled = s.Compile ? PythonTokensPerSecond(s, run, steps, compile: true) : double.NaN;
            double flops = run.Config.FlopsPerToken(s.Seq) * csTps;
            rows.Add((csTps, pyTps, pyCompiled, probe, flops, run.FaultsPerStep, run.Usage.KernelShare));
            Console.WriteLine(string.Create(Inv, $"round {r}: torchsharp {csTps:F0} tok/s, pytorch {pyTps:F0} tok/s (x{csTps / pyTps:F2}){(s.Compile ? $", compiled {pyCompiled:F0} tok/s" : "")}; " +
                $"achieved {flops / 1e9:F1} GFLOP/s{(peak is { } pk ? $" = MFU {flops / pk:P1}" : "")}, {flops / probe:P0} of the {probe / 1e9:F1} GFLOP/s {probeType} matmul probe; " +
                $"{run.FaultsPerStep:F0} page faults/step, kernel {run.Usage.KernelShare:P1} of CPU time"));
        }
        var cfg = GptConfig.Preset(s.Preset, CodeLm.Tokenizer.CodeTokenizer.Load(Path.Combine(s.Shards, "tokenizer")).VocabSize);
        Console.WriteLine();
        Console.WriteLine(string.Create(Inv, $"preset {s.Preset} ({cfg.ParameterCount() / 1e6:F1}M params, {cfg.FlopsPerToken(s.Seq) / 1e6:F1} MFLOP/token = 6N + 12LHQT), batch {s.Batch} x {s.Seq}, {s.Device}, {s.Threads} threads, {rounds} rounds x {steps} steps, allocator: {NativeAllocator.Mode}"));
        Console.WriteLine($"anchor: PyTorch {PythonTorchVersion(s)} (Debian's python3-torch, OpenBLAS) on the same batches and threads; CodeLm runs libtorch 2.10 (TorchSharp 0.107), so the ratio compares two libtorch builds as well as two loops");
        Report("torchsharp tokens/s", rows.Select(x => x.Cs));
        Report("pytorch tokens/s", rows.Select(x => x.Py));
        Report("torchsharp / pytorch", rows.Select(x => x.Cs / x.Py));
        if (s.Compile)
        {
            Report("pytorch compiled tokens/s", rows.Select(x => x.PyCompiled));
            Report("torchsharp / compiled", rows.Select(x => x.Cs / x.PyCompiled));
        }
        Report("page faults per step", rows.Select(x => x.Faults));
        Report("kernel share of CPU time", rows.Select(x => x.Kernel));
        Report("achieved GFLOP/s", rows.Select(x => x.Flops / 1e9));
        if (peak is { } p) Report($"MFU (achieved / {(s.PeakFlops != null ? "given" : "measured CPU")} peak {p / 1e9:F0} GFLOP/s)", rows.Select(x => x.Flops / p));
        Report($"probe: {probeType} matmul GFLOP/s", rows.Select(x => x.Probe / 1e9));
        Report("achieved / matmul probe", rows.Select(x => x.Flops / x.Probe));
    }

    private static string PythonTorchVersion(BenchSettings s)
    {
        var psi = new ProcessStartInfo(s.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", "import torch; print(torch.__version__)" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var v = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return p.ExitCode == 0 ? v : "(unknown)";
    }

    private static double PythonTokensPerSecond(BenchSettings s, Run run, int steps, bool compile)
    {
        var py = RunPython(s, run, steps, evalBatches: 1, lr: 6e-4, warmup: 2, compile);
        // The first step is skipped as on the TorchSharp side; with torch.compile, a third of them (compilation).
        return Median(py["step_s"]!.AsArray().Skip(compile ? Math.Max(1, steps / 3) : 1).Select(t => s.Batch * s.Seq / t!.GetValue<double>()));
    }

    /// <summary>One run for <see cref="AllocatorBench"/>, in a child process whose allocator the parent chose.</summary>
    public static JsonObject OneRun(BenchSettings s, int steps)
    {
        Native();
        return AllocatorBench.Measure(() =>
        {
            var run = RunTrainer(s, $"alloc-{Environment.ProcessId}", steps, lr: 1e-3, warmup: Math.Min(10, steps), evalBatches: 1, peak: 1e11);
            double tps = Median(run.StepSeconds.Skip(1).Select(t => s.Batch * s.Seq / t));
            Directory.Delete(run.Dir, recursive: true);
            return (tps, run.Result.Losses, run.Usage, run.UsageSteps);
        });
    }

    public static void Parity(BenchSettings s, int steps)
    {
        Native();
        var run = RunTrainer(s, "parity", steps, lr: 1e-3, warmup: steps / 10, evalBatches: 8, peak: 1e11);
        var py = RunPython(s, run, steps, evalBatches: 8, lr: 1e-3, warmup: steps / 10);
        double cs = run.Result.LastValLoss!.Value, pyVal = py["val_loss"]!.GetValue<double>();
        var pyLosses = py["losses"]!.AsArray().Select(x => x!.GetValue<double>()).ToList();
        Console.WriteLine(string.Create(Inv, $"preset {s.Preset}, batch {s.Batch} x {s.Seq}, {steps} steps, same init/batches/schedule"));
        foreach (int i in new[] { 0, steps / 4, steps / 2, 3 * steps / 4, steps - 1 })
            Console.WriteLine(string.Create(Inv, $"  step {i + 1,4}: train loss torchsharp {run.Result.Losses[i]:F4}  pytorch {pyLosses[i]:F4}"));
        Console.WriteLine(string.Create(Inv, $"validation loss: torchsharp {cs:F4}, pytorch {pyVal:F4}, relative difference {Math.Abs(cs - pyVal) / pyVal:P2}"));
    }

    public static void Memory(BenchSettings s, int steps)
    {
        Native();
        var samples = new List<(int Step, double Mb)>();
        var proc = Process.GetCurrentProcess();
        RunTrainer(s, "memory", steps, lr: 6e-4, warmup: 20, evalBatches: 2, peak: 1e11, evalInterval: 250, onStep: step =>
        {
            if (step % 50 != 0) return;
            proc.Refresh();
            samples.Add((step, proc.WorkingSet64 / 1048576.0));
        });
        Console.WriteLine($"preset {s.Preset}, batch {s.Batch} x {s.Seq}, {steps} steps (eval every 250, checkpoint every 250)");
        foreach (var (step, mb) in samples) Console.WriteLine(string.Create(Inv, $"  step {step,5}: RSS {mb:F0} MiB"));
        var tail = samples.Where(x => x.Step >= 200).ToList();
        Console.WriteLine(string.Create(Inv, $"RSS step 200 -> {steps}: {tail[0].Mb:F0} -> {tail[^1].Mb:F0} MiB (max {tail.Max(x => x.Mb):F0}, min {tail.Min(x => x.Mb):F0})"));
    }

    /// <param name="Usage">CPU time and page faults of steps 2..N-1: the first step's allocations are a one-off, the last one evaluates and checkpoints.</param>
    private sealed record Run(GptConfig Config, TrainResult Result, double[] StepSeconds, string Dir, ProcessUsage Usage)
    {
        public int UsageSteps => Math.Max(1, StepSeconds.Length - 2);
        public double FaultsPerStep => (double)Usage.MinorFaults / UsageSteps;
    }

    private static Run RunTrainer(BenchSettings s, string name, int steps, double lr, int warmup, int evalBatches, double peak,
        int? evalInterval = null, Action<int>? onStep = null)
    {
        var dir = Path.Combine(s.Work, name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        var (data, tok, handles) = ShardData.Open(s.Shards);
        using var _ = handles;
        var config = GptConfig.Preset(s.Preset, tok.VocabSize);
        var options = new TrainOptions
        {
            OutDir = Path.Combine(dir, "run"), Device = s.Device, Threads = s.Threads, BatchSize = s.Batch, SequenceLength = s.Seq,
            MaxSteps = steps, WarmupSteps = warmup, LearningRate = lr, EvalInterval = evalInterval ?? steps, EvalBatches = evalBatches,
            Seed = Seed, PeakFlops = peak,
        };
        ProcessUsage first = default, last = default;
        var result = Trainer.Run(config, data, options, p =>
        {
            if (p.Message != null) return;
            if (p.Step == 1) first = ProcessUsage.Now();
            if (p.Step == steps - 1) last = ProcessUsage.Now(); // before the last step's evaluation and checkpoint
            onStep?.Invoke(p.Step);
        });

        // The windows the run trained on and the ones its evaluations read: the data order is a function of the seed,
        // so replaying it gives the trainer's exact batches. Then the initial weights (same seed, same construction order).
        WriteWindows(Path.Combine(dir, "batches.bin"), data.TrainStream(options), steps * options.GradAccumulation, s.Batch, s.Seq);
        WriteWindows(Path.Combine(dir, "val.bin"), data.ValidationStream(options), evalBatches, s.Batch, s.Seq);
        manual_seed(Seed);
        using (var init = new Gpt(config)) Checkpoint.SaveWeights(Path.Combine(dir, "init.safetensors"), init);
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson());

        var stepSeconds = File.ReadLines(Path.Combine(options.OutDir, MetricsLog.JsonlFile))
            .Select(l => JsonNode.Parse(l)!).Where(n => n["type"]!.GetValue<string>() == "train")
            .Select(n => n["step_s"]!.GetValue<double>()).ToArray();
        return new Run(config, result, stepSeconds, dir, last - first);
    }

    /// <summary>Writes <paramref name="batches"/> [batch, seq + 1] int32 windows, row-major, as torch_loop.py reads them.</summary>
    private static void WriteWindows(string path, TokenStream stream, int batches, int batch, int seq)
    {
        using var writer = new BinaryWriter(File.Create(path));
        var buffer = new int[batch * (seq + 1)];
        for (int i = 0; i < batches; i++)
        {
            stream.NextBatch(buffer, batch, seq + 1);
            foreach (var t in buffer) writer.Write(t);
        }
    }

    private static JsonNode RunPython(BenchSettings s, Run run, int steps, int evalBatches, double lr, int warmup, bool compile = false)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "torch_loop.py");
        var output = Path.Combine(run.Dir, "pytorch.json");
        var psi = new ProcessStartInfo(s.Python) { RedirectStandardError = true };
        foreach (var a in new[]
        {
            script, "--dir", run.Dir, "--batch", s.Batch.ToString(Inv), "--seq", s.Seq.ToString(Inv), "--steps", steps.ToString(Inv),
            "--eval-batches", evalBatches.ToString(Inv), "--lr", lr.ToString("R", Inv), "--min-lr", (lr / 10).ToString("R", Inv),
            "--warmup", warmup.ToString(Inv), "--threads", s.Threads.ToString(Inv), "--out", output, "--device", s.Device,
        }) psi.ArgumentList.Add(a);
        // The same malloc behaviour as CodeLm's process, so neither side pays the kernel for its tensors.
        if (NativeAllocator.Mode == AllocatorMode.TunedAtStart) psi.Environment["GLIBC_TUNABLES"] = NativeAllocator.Tunables;
        if (s.Cuda) psi.ArgumentList.Add("--bf16"); // the trainer's precision on CUDA (auto): bf16 compute, fp32 master weights
        if (compile) psi.ArgumentList.Add("--compile");
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("torch_loop.py failed: " + err);
        return JsonNode.Parse(File.ReadAllText(output))!;
    }

    private static void Native() => CodeLm.Model.Native.TorchNativeLoader.EnsureLoaded();

    private static double Median(IEnumerable<double> xs)
    {
        var a = xs.Order().ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    private static void Report(string what, IEnumerable<double> values)
    {
        var v = values.ToArray();
        Console.WriteLine(string.Create(Inv, $"{what,-28} median {Median(v):F3}  min {v.Min():F3}  max {v.Max():F3}  (n={v.Length})"));
    }
}
