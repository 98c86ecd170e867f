using CodeLm.Common;
using System.Text;
using CodeLm.Model;
using CodeLm.Model.Generation;
using CodeLm.Model.Native;
using CodeLm.Server.Completion;
using CodeLm.Tokenizer;
using TorchSharp;
using static TorchSharp.torch;
using Generator = CodeLm.Model.Generation.Generator;

namespace CodeLm.Server.Engine;

/// <summary>
/// Fill-in-the-middle on a checkpoint through <see cref="Generator"/> (prompt layout and budget are the Generator's,
/// `BuildFimPrompt`, PSM or SPM). Greedy requests, the editor's default, take a faster path by default: one KV cache
/// lives as long as the engine, and a prompt that starts like the previous one (while typing, with SPM, everything but
/// the new characters) only prefills what changed; it decodes exactly as the Generator does (tests check the outputs are identical). Sampling with a
/// temperature always goes through the Generator. Calls may come from any thread: they run one at a time on the engine's
/// own thread (<see cref="TorchThread"/>).
/// </summary>
public sealed class CheckpointCompletionEngine : ICompletionEngine, IDisposable
{
    private readonly Gpt model;
    private readonly CodeTokenizer tokenizer;
    private readonly Device device;
    private readonly Generator generator;
    private readonly KvCache? cache;
    private readonly List<int> cached = []; // the token ids whose keys/values the cache holds, in order
    private readonly int promptThreads = get_num_threads();
    private readonly TorchThread torchThread;

    public CheckpointCompletionEngine(Gpt model, CodeTokenizer tokenizer, Device device, bool reuseKvCache = true)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.device = device;
        generator = new Generator(model, tokenizer, device);
        if (reuseKvCache) cache = new KvCache(model.Config, 1, model.Config.ContextLength, device);
        torchThread = new TorchThread("codelm-model"); // last: nothing after it can throw and leak the thread
    }

    /// <summary>
    /// Loads config, weights and tokenizer from a checkpoint directory onto <paramref name="deviceSpec"/> ("cpu", "cuda",
    /// "auto"). <paramref name="precision"/> "auto" on the CPU decodes with int8 weights and reads prompts in bfloat16 when that
    /// measures at least 1.5x faster here (see <see cref="Gpt.PrepareCpuInference"/>); "int8" keeps float32 prompts;
    /// "float32", and any GPU, use the checkpoint's float32 weights throughout.
    /// </summary>
    public static CheckpointCompletionEngine Load(string checkpointDir, string deviceSpec = "cpu", bool reuseKvCache = true, string precision = "auto")
    {
        if (precision is not ("auto" or "int8" or "float32"))
            throw new ArgumentException($"--precision must be auto, int8 or float32, got '{precision}'");
        checkpointDir = Checkpoint.Resolve(checkpointDir);
        if (!Directory.Exists(checkpointDir)) throw new DirectoryNotFoundException($"checkpoint directory '{checkpointDir}' does not exist");
        var tokenizerDir = Path.Combine(checkpointDir, Checkpoint.TokenizerDirName);
        if (!Directory.Exists(tokenizerDir)) throw new InvalidDataException($"'{checkpointDir}' has no {Checkpoint.TokenizerDirName}/ directory: not a complete checkpoint");
        TorchNativeLoader.EnsureLoaded();
        var device = Devices.Resolve(deviceSpec);
        if (precision == "int8" && device.type != DeviceType.CPU)
            throw new ArgumentException($"--precision int8 runs on the CPU only; the model would be on {device}. Use --precision float32 or auto.");
        var tokenizer = CodeTokenizer.Load(tokenizerDir);
        var (model, config) = Checkpoint.LoadModel(checkpointDir, device);
        try
        {
            if (tokenizer.VocabSize > config.VocabSize)
                throw new InvalidDataException($"'{checkpointDir}': the tokenizer has {tokenizer.VocabSize} tokens but the model only {config.VocabSize}");
            if (precision == "int8") model.PrepareCpuInference(int8Steps: true, bf16Prompts: false);
            else if (precision == "auto" && device.type == DeviceType.CPU)
            {
                // int8 only where a vector kernel runs (the scalar fallback would be slower than libtorch's float32).
                var int8 = Int8Weights.IsAccelerated(config.Embedding) && Int8Weights.IsAccelerated(config.Hidden);
                var bf16 = InferenceWeights.Bf16IsFasterForPrompts(config.Embedding);
                if (int8 || bf16) model.PrepareCpuInference(int8Steps: int8, bf16Prompts: bf16);
            }
            return new CheckpointCompletionEngine(model, tokenizer, device, reuseKvCache);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>How the model computes, e.g. "int8 steps, bfloat16 prompts" (see <see cref="Gpt.InferencePrecision"/>).</summary>
    public string Precision => model.InferencePrecision;

    public GptConfig Config => model.Config;
    public int ContextLength => model.Config.ContextLength;
    public int CountTokens(string text) => tokenizer.Encode(text).Length;

    /// <summary>Runs one short completion so the first real request does not pay for lazy initialisation.</summary>
    public void WarmUp() =>
        _ = Complete(new CompletionPrompt("# language: Python\ndef add(a, b):\n    return", "\n", "Python"), new EngineOptions(4, 0), _ => false, CancellationToken.None);

    /// <summary>Runs on the engine's own thread (see <see cref="TorchThread"/>); the caller waits.</summary>
    public string Complete(CompletionPrompt prompt, EngineOptions options, Func<string, bool> shouldStop, CancellationToken ct) =>
        torchThread.Run(() => CompleteHere(prompt, options, shouldStop, ct));

    private string CompleteHere(CompletionPrompt prompt, EngineOptions options, Func<string, bool> shouldStop, CancellationToken ct)
    {
        var sampling = new SamplingOptions(MaxNewTokens: options.MaxNewTokens, Temperature: options.Temperature)
        {
            FimFormat = options.Fim,
        };
        try
        {
            return cache != null && sampling.IsGreedy
                ? GreedyWithReusedCache(generator.BuildFimPrompt(prompt.Prefix, prompt.Suffix, sampling), sampling.MaxNewTokens, shouldStop, ct)
                : ViaGenerator(prompt, sampling, shouldStop, ct);
        }
        finally { set_num_threads(promptThreads); } // greedy steps run on one thread: the next request starts with all
    }

    private string ViaGenerator(CompletionPrompt prompt, SamplingOptions sampling, Func<string, bool> shouldStop, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var text = new StringBuilder();
        var result = generator.GenerateFim(prompt.Prefix, prompt.Suffix, 1, sampling, (_, delta) =>
        {
            if (delta.Length == 0) return;
            text.Append(delta);
            if (shouldStop(text.ToString())) stop.Cancel(); // the Generator ends the sample after this token
        }, stop.Token)[0];
        ct.ThrowIfCancellationRequested();
        return result.Text;
    }

    private string GreedyWithReusedCache(int[] ids, int maxNew, Func<string, bool> shouldStop, CancellationToken ct)
    {
        var kv = cache!;
        var capacity = Math.Min(kv.Capacity, ids.Length + maxNew);
        using var inference = inference_mode();
        if (cached.Count != kv.Length) { cached.Clear(); kv.Truncate(0); } // an earlier step failed midway

        // Keep the longest shared start with what the cache holds; at least one token must be fed to get logits.
        var common = 0;
        while (common < cached.Count && common < ids.Length - 1 && cached[common] == ids[common]) common++;
        kv.Truncate(common);
        cached.RemoveRange(common, cached.Count - common);
        var next = Step(ids.AsSpan(common));
        cached.AddRange(ids.AsSpan(common));

        var bytes = new List<byte>();
        for (var produced = 0; ; )
        {
            if (next < SpecialTokens.All.Count) break; // end of text or a FIM sentinel: the middle is done
            bytes.AddRange(tokenizer.TokenBytesOf(next));
            produced++;
            if (produced >= maxNew || kv.Length >= capacity || shouldStop(DecodeComplete(bytes))) break;
            ct.ThrowIfCancellationRequested();
            var token = next;
            next = Step([token]);
            cached.Add(token);
        }
        ct.ThrowIfCancellationRequested();
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Feeds <paramref name="tokens"/> after the cache and returns the greedy next token.</summary>
    private int Step(ReadOnlySpan<int> tokens)
    {
        // A one-token step is a chain of small ops on one row, where libtorch's thread hand-offs cost more than they
        // save (measured 2.0 vs 3.3 ms per step for `small` on 2 cores); a prompt chunk uses every thread.
        set_num_threads(tokens.Length == 1 ? 1 : promptThreads);
        using var scope = NewDisposeScope();
        var longs = new long[tokens.Length];
        for (var i = 0; i < tokens.Length; i++) longs[i] = tokens[i];
        using var input = tensor(longs, [1, longs.Length], dtype: ScalarType.Int64, device: device);
        var logits = model.forward(input, cache, lastOnly: true)[0, -1];
        if (tokenizer.VocabSize < logits.shape[0]) logits = logits.narrow(0, 0, tokenizer.VocabSize); // padded rows are never tokens
        return (int)logits.argmax().item<long>();
    }

    /// <summary>The text of the complete UTF-8 characters in <paramref name="bytes"/> (a token may end mid-character).</summary>
    private static string DecodeComplete(List<byte> bytes)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        var end = span.Length;
        for (var back = 1; back <= Math.Min(4, span.Length); back++)
        {
            var b = span[^back];
            if ((b & 0xC0) == 0x80) continue; // a continuation byte: look further back for the lead
            var need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            if (need > back) end = span.Length - back;
            break;
        }
        return Encoding.UTF8.GetString(span[..end]);
    }

    public void Dispose()
    {
        torchThread.Dispose();
        cache?.Dispose();
        model.Dispose();
    }
}
