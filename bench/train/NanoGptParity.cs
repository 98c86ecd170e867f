using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using CodeLm.Model;
using CodeLm.Model.Native;
using CodeLm.Model.Training;

namespace CodeLm.Bench.Train;

/// <summary>
/// Sample efficiency against nanoGPT itself: its own train.py (from the user's clone, never copied here) and CodeLm's
/// trainer learn the same tokens with the same shape and settings, then nanoGPT's own model code scores both final
/// models on every non-overlapping window of the validation split.
/// </summary>
public static class NanoGptParity
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public sealed record Settings(string NanoGpt, int Steps, int Warmup, double Lr, double MinLr, IReadOnlyList<int> Seeds);

    public static void Run(BenchSettings s, Settings n)
    {
        if (!File.Exists(Path.Combine(n.NanoGpt, "train.py")) || !File.Exists(Path.Combine(n.NanoGpt, "model.py")))
            throw new ArgumentException($"--nanogpt '{n.NanoGpt}' is not a nanoGPT clone (no train.py and model.py): git clone nanoGPT's public repository and pass its folder.");
        var dir = Path.Combine(s.Work, "nanogpt");
        Directory.CreateDirectory(dir);
        var (data, tok, handles) = ShardData.Open(s.Shards);
        using var _ = handles;
        var config = GptConfig.Preset(s.Preset, tok.VocabSize);
        var dataDir = WriteTokens(dir, data, tok.VocabSize, s.Python);

        var nanoCkpt = Path.Combine(dir, "out", "ckpt.pt");
        var sw = Stopwatch.StartNew();
        if (!File.Exists(nanoCkpt)) TrainNanoGpt(s, n, config, dataDir, Path.GetDirectoryName(nanoCkpt)!);
        Console.Error.WriteLine($"nanoGPT: {sw.Elapsed.TotalSeconds:F0} s");

        var checkpoints = new List<string> { $"nanogpt={nanoCkpt}" };
        foreach (int seed in n.Seeds)
        {
            var outDir = Path.Combine(dir, $"codelm-seed{seed}");
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
            sw.Restart();
            var result = Trainer.Run(config, data, new TrainOptions
            {
                OutDir = outDir, Device = "cpu", Threads = s.Threads, BatchSize = s.Batch, SequenceLength = s.Seq, MaxSteps = n.Steps,
                WarmupSteps = n.Warmup, LearningRate = n.Lr, MinLearningRate = n.MinLr, WeightDecay = 0.1, GradClip = 1.0,
                FimRate = 0, Seed = seed, EvalInterval = n.Steps, EvalBatches = 1, PeakFlops = 1e11,
            });
            Console.Error.WriteLine($"codelm seed {seed}: {sw.Elapsed.TotalSeconds:F0} s, {result.Message}");
            checkpoints.Add($"codelm-{seed}={Path.Combine(result.LastCheckpoint!, Checkpoint.WeightsFile)}");
        }

        var scores = Score(s, n, config, Path.Combine(dataDir, "val.bin"), checkpoints);
        var loss = scores["loss"]!.AsObject();
        double nano = loss["nanogpt"]!.GetValue<double>();
        var ours = n.Seeds.Select(seed => loss[$"codelm-{seed}"]!.GetValue<double>()).ToArray();
        Console.WriteLine(string.Create(Inv, $"preset {s.Preset}, batch {s.Batch} x {s.Seq}, {n.Steps} steps, lr {n.Lr} (warmup {n.Warmup}, cosine to {n.MinLr}), AdamW wd 0.1, clip 1, CodeLm --fim-rate 0"));
        Console.WriteLine($"scored by nanoGPT's model.py (torch {scores["torch"]}) on {scores["windows"]} non-overlapping {scores["block"]}-token validation windows");
        Console.WriteLine(string.Create(Inv, $"nanoGPT ({GitCommit(n.NanoGpt)}): {nano:F4}"));
        foreach (var (seed, l) in n.Seeds.Zip(ours))
            Console.WriteLine(string.Create(Inv, $"CodeLm seed {seed,5}: {l:F4}  ({(l - nano) / nano:+0.00%;-0.00%} vs nanoGPT)"));
        Console.WriteLine(string.Create(Inv, $"CodeLm mean {ours.Average():F4}, spread {ours.Min():F4}-{ours.Max():F4}; mean vs nanoGPT {(ours.Average() - nano) / nano:+0.00%;-0.00%}"));
    }

    /// <summary>nanoGPT's data layout: uint16 token files and a meta.pkl with the vocabulary size. Documents end with end-of-text.</summary>
    private static string WriteTokens(string dir, TrainData data, int vocab, string python)
    {
        if (vocab > ushort.MaxValue + 1) throw new ArgumentException($"nanoGPT stores tokens as uint16; a {vocab}-token vocabulary does not fit.");
        var dataDir = Path.Combine(dir, "data");
        Directory.CreateDirectory(dataDir);
        foreach (var (name, docs) in new[] { ("train.bin", data.Train), ("val.bin", data.Validation) })
        {
            using var w = new BinaryWriter(File.Create(Path.Combine(dataDir, name)));
            for (int i = 0; i < docs.Count; i++)
            {
                foreach (int t in docs.GetDocument(i)) w.Write((ushort)t);
                w.Write((ushort)data.Tokens.EndOfText);
            }
        }
        Python(python, null, "-c", $"import pickle; pickle.dump({{'vocab_size': {vocab}}}, open('{Path.Combine(dataDir, "meta.pkl")}', 'wb'))");
        return dataDir;
    }

    private static void TrainNanoGpt(BenchSettings s, Settings n, GptConfig c, string dataDir, string outDir)
    {
        var args = new List<string>
        {
            "train.py", $"--dataset={dataDir}", $"--out_dir={outDir}", "--device=cpu", "--compile=False", "--dtype=float32",
            $"--n_layer={c.Layers}", $"--n_head={c.Heads}", $"--n_embd={c.Embedding}", $"--block_size={s.Seq}", "--bias=False", "--dropout=0.0",
            $"--batch_size={s.Batch}", "--gradient_accumulation_steps=1", $"--max_iters={n.Steps}", $"--lr_decay_iters={n.Steps}",
            $"--learning_rate={n.Lr.ToString("R", Inv)}", $"--min_lr={n.MinLr.ToString("R", Inv)}", $"--warmup_iters={n.Warmup}",
            "--weight_decay=0.1", "--grad_clip=1.0", $"--eval_interval={n.Steps}", "--eval_iters=1", "--log_interval=50",
            "--always_save_checkpoint=True",
        };
        var env = new Dictionary<string, string> { ["OMP_NUM_THREADS"] = s.Threads.ToString(Inv) };
        // PyTorch's CPU tensors come from the same glibc malloc: spare it the same kernel round trips CodeLm no longer pays.
        if (NativeAllocator.Mode == AllocatorMode.TunedAtStart) env["GLIBC_TUNABLES"] = NativeAllocator.Tunables;
        Python(s.Python, n.NanoGpt, env, args.ToArray());
    }

    private static JsonNode Score(BenchSettings s, Settings n, GptConfig c, string valTokens, List<string> checkpoints)
    {
        var args = new List<string>
        {
            Path.Combine(AppContext.BaseDirectory, "nanogpt_score.py"), "--nanogpt", n.NanoGpt, "--tokens", valTokens,
            "--block", s.Seq.ToString(Inv), "--vocab", c.VocabSize.ToString(Inv), "--layers", c.Layers.ToString(Inv),
            "--heads", c.Heads.ToString(Inv), "--embd", c.Embedding.ToString(Inv), "--threads", s.Threads.ToString(Inv),
        };
        args.AddRange(checkpoints);
        return JsonNode.Parse(Python(s.Python, null, args.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Last())!;
    }

    private static string Python(string python, string? cwd, params string[] args) => Python(python, cwd, new Dictionary<string, string>(), args);

    private static string Python(string python, string? cwd, Dictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd ?? "" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{python} {string.Join(' ', args.Take(2))} failed:\n{output}\n{err.Result}");
        return output;
    }

    private static string GitCommit(string repo)
    {
        try
        {
            var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repo };
            foreach (var a in new[] { "rev-parse", "--short", "HEAD" }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var v = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? "commit " + v : "commit unknown";
        }
        catch (Exception) { return "commit unknown"; }
    }
}
