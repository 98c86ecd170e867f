using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace CodeLm.Model.Tests;

/// <summary>
/// llama.cpp itself (the CPU build LLamaSharp ships), driven through its native batch API: logits for every position,
/// greedy tokens, and tokenization. Settings chosen so that llama.cpp computes what a float32 reference computes:
/// float32 K/V cache (the default F16 cache rounds keys and values), no flash attention, a fixed thread count.
/// </summary>
public static class LlamaCpp
{
    public const int Threads = 2;
    private static readonly object Gate = new();
    private static bool _configured;

    private static void Configure()
    {
        lock (Gate)
        {
            if (_configured) return;
            // llama.cpp logs every tensor it loads; keep errors only.
            NativeLibraryConfig.All.WithLogCallback((level, message) =>
            {
                if (level == LLamaLogLevel.Error) Console.Error.Write(message);
            });
            NativeApi.llama_empty_call(); // loads the native library (LLamaQuantizer alone does not)
            _configured = true;
        }
    }

    private static ModelParams Params(string gguf, int context) => new(gguf)
    {
        ContextSize = (uint)context, BatchSize = (uint)context, UBatchSize = (uint)context, SeqMax = 1,
        Threads = Threads, BatchThreads = Threads, GpuLayerCount = 0,
        TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
    };

    /// <summary>
    /// Logits [T, V] (row-major) of <paramref name="ids"/> as one sequence, then the <paramref name="greedyTokens"/> tokens
    /// llama.cpp picks greedily after them (argmax, lowest id on ties), one token per decode as a client would.
    /// </summary>
    public static (float[] Logits, int Vocab, int[] Greedy) Run(string gguf, IReadOnlyList<int> ids, int greedyTokens)
    {
        Configure();
        var p = Params(gguf, 512);
        using var weights = LLamaWeights.LoadFromFile(p);
        using var ctx = weights.CreateContext(p);
        int vocab = weights.Vocab.Count;
        var batch = new LLamaBatch();
        for (int i = 0; i < ids.Count; i++) batch.Add(ids[i], i, LLamaSeqId.Zero, logits: true);
        Decode(ctx, batch);
        var logits = new float[ids.Count * vocab];
        for (int i = 0; i < ids.Count; i++) ctx.NativeHandle.GetLogitsIth(i).CopyTo(logits.AsSpan(i * vocab, vocab));

        var greedy = new int[greedyTokens];
        var last = logits.AsSpan((ids.Count - 1) * vocab, vocab);
        for (int n = 0; n < greedyTokens; n++)
        {
            int best = 0;
            for (int v = 1; v < last.Length; v++) if (last[v] > last[best]) best = v;
            greedy[n] = best;
            if (n == greedyTokens - 1) break;
            batch.Clear();
            batch.Add(best, ids.Count + n, LLamaSeqId.Zero, logits: true);
            Decode(ctx, batch);
            last = ctx.NativeHandle.GetLogitsIth(0);
        }
        return (logits, vocab, greedy);
    }

    private static void Decode(LLamaContext ctx, LLamaBatch batch)
    {
        var r = ctx.Decode(batch);
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {r}");
    }

    /// <summary>A model's vocabulary alone, for tokenizing many texts.</summary>
    public static LLamaWeights LoadVocab(string gguf)
    {
        Configure();
        return LLamaWeights.LoadFromFile(new ModelParams(gguf) { VocabOnly = true, GpuLayerCount = 0 });
    }

    /// <summary>llama.cpp's tokens for plain text: no BOS, special-token text not parsed as specials.</summary>
    public static int[] Tokenize(LLamaWeights vocab, string text) =>
        vocab.Tokenize(text, add_bos: false, special: false, Encoding.UTF8).Select(t => (int)t).ToArray();

    /// <summary>llama.cpp's own quantizer (llama-quantize) applied to a GGUF.</summary>
    public static void Quantize(string source, string destination, LLamaFtype type)
    {
        Configure();
        if (!LLamaQuantizer.Quantize(source, destination, type, nthread: Threads, allowRequantize: false, quantizeOutputTensor: true))
            throw new InvalidOperationException($"llama.cpp could not quantize '{source}' to {type}");
    }
}
