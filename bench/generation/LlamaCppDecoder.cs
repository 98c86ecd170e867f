using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

/// <summary>
/// llama.cpp (the CPU build LLamaSharp 0.30.0 ships) doing the same work as <see cref="OpenModelBench.Decode"/>: one prompt
/// prefilled in one batch, then greedy tokens one decode call at a time, logits for the last position only.
/// Its defaults are kept (F16 K/V cache, its own thread pool) because that is how users run it.
/// </summary>
sealed class LlamaCppDecoder : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly ModelParams _params;

    public LlamaCppDecoder(string gguf, int threads, int context)
    {
        NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level == LLamaLogLevel.Error) Console.Error.Write(message); });
        _params = new ModelParams(gguf)
        {
            ContextSize = (uint)context, BatchSize = (uint)context, UBatchSize = (uint)context, SeqMax = 1,
            Threads = threads, BatchThreads = threads, GpuLayerCount = 0,
        };
        _weights = LLamaWeights.LoadFromFile(_params);
    }

    public OpenModelBench.Result Decode(int[] prompt, int decode)
    {
        using var ctx = _weights.CreateContext(_params);
        var batch = new LLamaBatch();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < prompt.Length; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, logits: i == prompt.Length - 1);
        Run(ctx, batch);
        int next = ArgMax(ctx.NativeHandle.GetLogitsIth(prompt.Length - 1));
        var prefill = clock.Elapsed.TotalMilliseconds;
        var tokens = new List<int> { next };
        clock.Restart();
        for (int i = 1; i < decode; i++)
        {
            batch.Clear();
            batch.Add(next, prompt.Length + i - 1, LLamaSeqId.Zero, logits: true);
            Run(ctx, batch);
            next = ArgMax(ctx.NativeHandle.GetLogitsIth(0));
            tokens.Add(next);
        }
        return new OpenModelBench.Result(prefill, (decode - 1) / clock.Elapsed.TotalSeconds, tokens.ToArray());
    }

    private static void Run(LLamaContext ctx, LLamaBatch batch)
    {
        var r = ctx.Decode(batch);
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {r}");
    }

    private static int ArgMax(Span<float> logits)
    {
        int best = 0;
        for (int v = 1; v < logits.Length; v++) if (logits[v] > logits[best]) best = v;
        return best;
    }

    public void Dispose() => _weights.Dispose();
}
