using System.Diagnostics;
using System.Globalization;
using CodeLm.Model;
using CodeLm.Model.Inference;
using static TorchSharp.torch;

/// <summary>
/// An open model's speed on this CPU: load time and peak RSS, prefill of a prompt, and greedy decode with the KV cache,
/// through CodeLm's best CPU path (int8 steps, bf16 prompts where faster). The same token ids go to every engine.
/// With --gguf FILE, llama.cpp runs the same token ids on that file in the same process, alternating round by round.
/// usage: open-model DIR [--gguf FILE] [--threads N] [--prompt 128] [--decode 64] [--repeats 3] [--precision auto|int8|float32]
/// </summary>
static class OpenModelBench
{
    public sealed record Result(double PrefillMs, double DecodeTokS, int[] Tokens);

    public static void Run(string dir, string? gguf, int threads, int promptLength, int decode, int repeats, InferencePrecision precision = InferencePrecision.Auto)
    {
        Int8Weights.Threads = threads; // both engines on the same number of cores
        var clock = Stopwatch.StartNew();
        var (model, config) = Checkpoint.LoadModel(dir, CPU);
        var loadMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var weights = CpuInference.Choose(precision, config, CPU);
        CpuInference.Prepare(model, weights);
        Console.WriteLine($"codelm: prepared {weights} in {clock.Elapsed.TotalMilliseconds:F0} ms");
        Console.WriteLine($"codelm: loaded {dir} in {loadMs:F0} ms ({model.ParameterCount() / 1e6:F0}M parameters, {weights}); peak RSS {Setup.Status("VmHWM") / 1024} MiB after prepare; threads {threads}");
        var prompt = Enumerable.Range(0, promptLength).Select(i => (i * 7919 + 13) % Math.Min(config.VocabSize, 32000)).ToArray();
        using var llama = gguf is null ? null : new LlamaCppDecoder(gguf, threads, promptLength + decode + 8);
        var ours = new List<Result>();
        var theirs = new List<Result>();
        using (model)
            for (int r = 0; r < repeats + 1; r++) // the first round warms both up
            {
                var a = Decode(model, config, prompt, decode);
                var b = llama?.Decode(prompt, decode);
                if (r == 0) continue;
                ours.Add(a);
                if (b != null) theirs.Add(b);
                var line = FormattableString.Invariant($"  #{r}: codelm prefill {a.PrefillMs:F1} ms, decode {a.DecodeTokS:F2} tok/s");
                if (b != null)
                    line += FormattableString.Invariant($" | llama.cpp prefill {b.PrefillMs:F1} ms, decode {b.DecodeTokS:F2} tok/s; same greedy tokens: {a.Tokens.Zip(b.Tokens).TakeWhile(p => p.First == p.Second).Count()}/{decode}");
                Console.WriteLine(line);
            }
        Summarize("codelm", ours);
        if (theirs.Count > 0)
        {
            Summarize("llama.cpp", theirs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio codelm/llama.cpp: decode {Median(ours.Select(r => r.DecodeTokS)) / Median(theirs.Select(r => r.DecodeTokS)):F2}x, prefill time {Median(ours.Select(r => r.PrefillMs)) / Median(theirs.Select(r => r.PrefillMs)):F2}x"));
        }
    }

    private static void Summarize(string who, List<Result> rs) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{who}: prefill median {Median(rs.Select(r => r.PrefillMs)):F1} ms ({rs.Min(r => r.PrefillMs):F1}-{rs.Max(r => r.PrefillMs):F1}), decode median {Median(rs.Select(r => r.DecodeTokS)):F2} tok/s ({rs.Min(r => r.DecodeTokS):F2}-{rs.Max(r => r.DecodeTokS):F2})"));

    private static double Median(IEnumerable<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    public static Result Decode(Gpt model, GptConfig config, int[] prompt, int decode)
    {
        using var _ = inference_mode();
        using var cache = new KvCache(config, 1, prompt.Length + decode + 1, CPU);
        var clock = Stopwatch.StartNew();
        int next;
        using (var scope = NewDisposeScope())
            next = (int)model.forward(tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Length]), cache, lastOnly: true).argmax(-1).item<long>();
        var prefill = clock.Elapsed.TotalMilliseconds;
        var tokens = new List<int> { next };
        int threads = get_num_threads();
        set_num_threads(1); // as the server decodes (GeneratorOptions.OneThreadSteps): libtorch's idle threads would hold the other core
        clock.Restart();
        for (int i = 1; i < decode; i++)
            using (var scope = NewDisposeScope())
            {
                next = (int)model.forward(tensor(new long[] { next }, [1, 1]), cache).argmax(-1).item<long>();
                tokens.Add(next);
            }
        var seconds = clock.Elapsed.TotalSeconds;
        set_num_threads(threads);
        return new Result(prefill, (decode - 1) / seconds, tokens.ToArray());
    }
}
