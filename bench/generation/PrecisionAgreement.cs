using System.Diagnostics;
using System.Globalization;
using CodeLm.Model;
using CodeLm.Model.Generation;
using CodeLm.Model.Inference;
using static TorchSharp.torch;
using Generator = CodeLm.Model.Generation.Generator;

/// <summary>
/// `precision DIR`: how far CPU inference weights (int8 steps, bfloat16 prompts) move a trained checkpoint's outputs
/// from float32, on this repository's C# files: teacher-forced top-1 agreement and KL divergence per position, greedy
/// completions identical or not, and the time per decoding step either way.
/// </summary>
static class PrecisionAgreement
{
    public static void Run(string checkpointDir, int prompts)
    {
        var (reference, _, tokenizer) = Checkpoint.Load(Checkpoint.Resolve(checkpointDir), CPU);
        var (prepared, _, _) = Checkpoint.Load(Checkpoint.Resolve(checkpointDir), CPU);
        reference.eval();
        prepared.eval();
        var auto = CpuInference.Choose(InferencePrecision.Auto, prepared.Config, CPU);
        CpuInference.Prepare(prepared, auto with { Steps = StepWeights.Int8 });
        var ctx = reference.Config.ContextLength;

        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root != null && !File.Exists(Path.Combine(root.FullName, "CodeLm.sln"))) root = root.Parent;
        var files = Directory.GetFiles(root!.FullName, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains("/bin/") && !p.Contains("/obj/")).Order(StringComparer.Ordinal)
            .Select(File.ReadAllText).Where(t => tokenizer.Encode(t).Length > ctx).Take(prompts).ToList();

        using var inference = inference_mode();
        long positions = 0, agree = 0;
        double kl = 0;
        int sameGreedy = 0;
        double prefixTokens = 0;
        var refStep = new List<double>();
        var prepStep = new List<double>();
        var greedy = new SamplingOptions(MaxNewTokens: 32);
        foreach (var text in files)
        {
            var ids = tokenizer.Encode(text)[..ctx];
            using (NewDisposeScope())
            {
                var full = reference.forward(tensor(ids.Select(i => (long)i).ToArray()).view(1, -1))[0]; // [T, V]
                using var cache = new KvCache(prepared.Config, 1, ctx, CPU);
                const int promptLength = 32;
                var logits = new List<Tensor> { prepared.forward(tensor(ids[..promptLength].Select(i => (long)i).ToArray()).view(1, -1), cache, lastOnly: true)[0, 0] };
                for (int t = promptLength; t < ctx; t++)
                    logits.Add(prepared.forward(tensor(new long[] { ids[t] }).view(1, 1), cache, lastOnly: true)[0, 0]);
                var q = stack(logits);                                 // predictions for positions promptLength-1 .. ctx-1
                var p = full[(promptLength - 1)..];
                agree += p.argmax(-1).eq(q.argmax(-1)).sum().item<long>();
                positions += q.shape[0];
                var logP = p.log_softmax(-1);
                kl += (logP.exp() * (logP - q.log_softmax(-1))).sum().item<float>();
            }
            var prompt = ids[..(ctx / 2)];
            var a = Timed(new Generator(reference, tokenizer, CPU), prompt, greedy, refStep);
            var b = Timed(new Generator(prepared, tokenizer, CPU), prompt, greedy, prepStep);
            if (a.SequenceEqual(b)) sameGreedy++;
            prefixTokens += a.Zip(b).TakeWhile(x => x.First == x.Second).Count();
        }

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"| measure ({files.Count} C# files of this repository, {reference.Config.Layers} layers x {reference.Config.Embedding}, context {ctx}; {CpuInference.WeightsOf(prepared)}) | value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| teacher-forced top-1 agreement with float32 ({positions} positions) | {(100.0 * agree / positions).ToString("F2", inv)} % |");
        Console.WriteLine($"| mean KL(float32 ‖ prepared) per position | {(kl / positions).ToString("G3", inv)} nats |");
        Console.WriteLine($"| greedy 32-token completions identical to float32 | {sameGreedy} / {files.Count} |");
        Console.WriteLine($"| mean tokens before the first difference | {(prefixTokens / files.Count).ToString("F1", inv)} / 32 |");
        Console.WriteLine($"| decode step, median ms: float32 / prepared | {Median(refStep).ToString("F2", inv)} / {Median(prepStep).ToString("F2", inv)} ({(Median(refStep) / Median(prepStep)).ToString("F2", inv)}×) |");
    }

    private static IReadOnlyList<int> Timed(Generator generator, int[] prompt, SamplingOptions options, List<double> steps)
    {
        var stamps = new List<double>();
        var clock = Stopwatch.StartNew();
        var r = generator.GenerateTokens(prompt, 1, options, (_, _) => stamps.Add(clock.Elapsed.TotalMilliseconds))[0];
        steps.AddRange(stamps.Zip(stamps.Skip(1), (x, y) => y - x));
        return r.TokenIds;
    }

    private static double Median(List<double> xs) { var s = xs.Order().ToList(); return s.Count == 0 ? 0 : s[s.Count / 2]; }
}
