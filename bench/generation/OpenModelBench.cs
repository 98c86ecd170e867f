using System.Diagnostics;
using System.Globalization;
using CodeLm.Model;
using CodeLm.Model.Inference;
using static TorchSharp.torch;

/// <summary>
/// An open model's speed on this CPU: load time and peak RSS, prefill of a prompt, and greedy decode with the KV cache,
/// through CodeLm's best CPU path (int8 steps, bf16 prompts where faster). The same token ids go to every engine.
/// usage: open-model DIR [--threads N] [--prompt 128] [--decode 64] [--repeats 3]
/// </summary>
static class OpenModelBench
{
    public sealed record Result(double PrefillMs, double DecodeTokS, int[] Tokens);

    public static void Run(string dir, int threads, int promptLength, int decode, int repeats, InferencePrecision precision = InferencePrecision.Auto)
    {
        var clock = Stopwatch.StartNew();
        var (model, config) = Checkpoint.LoadModel(dir, CPU);
        var loadMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var weights = CpuInference.Choose(precision, config, CPU);
        CpuInference.Prepare(model, weights);
        Console.WriteLine($"codelm: prepared {weights} in {clock.Elapsed.TotalMilliseconds:F0} ms");
        Console.WriteLine($"codelm: loaded {dir} in {loadMs:F0} ms ({model.ParameterCount() / 1e6:F0}M parameters, {weights}); peak RSS {Setup.Status("VmHWM") / 1024} MiB after prepare; threads {threads}");
        var prompt = Enumerable.Range(0, promptLength).Select(i => (i * 7919 + 13) % Math.Min(config.VocabSize, 32000)).ToArray();
        using (model)
            for (int r = 0; r < repeats + 1; r++) // the first round warms up
            {
                var result = Decode(model, config, prompt, decode);
                if (r > 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  codelm #{r}: prefill {promptLength} tokens {result.PrefillMs:F1} ms, decode {result.DecodeTokS:F2} tok/s"));
            }
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
        clock.Restart();
        for (int i = 1; i < decode; i++)
            using (var scope = NewDisposeScope())
            {
                next = (int)model.forward(tensor(new long[] { next }, [1, 1]), cache).argmax(-1).item<long>();
                tokens.Add(next);
            }
        return new Result(prefill, (decode - 1) / clock.Elapsed.TotalSeconds, tokens.ToArray());
    }
}
