using System.Text;
using CodeLm.Model;
using CodeLm.Model.Native;
using CodeLm.Server.Completion;
using CodeLm.Tokenizer;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Server.Engine;

/// <summary>
/// Fill-in-the-middle on a checkpoint's GPT (PSM: `&lt;fim_prefix&gt;` prefix `&lt;fim_suffix&gt;` suffix `&lt;fim_middle&gt;`),
/// decoding token by token into one KV cache that lives as long as the engine: a prompt that starts like the previous
/// one (the usual case while typing) only prefills what changed. Not thread-safe: the service runs one request at a time.
/// </summary>
public sealed class GptCompletionEngine : ICompletionEngine, IDisposable
{
    private readonly Gpt model;
    private readonly GptConfig config;
    private readonly CodeTokenizer tokenizer;
    private readonly Device device;
    private readonly KvCache cache;
    private readonly List<int> cached = []; // the token ids whose keys/values the cache holds, in order

    public GptCompletionEngine(Gpt model, CodeTokenizer tokenizer, Device device)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.device = device;
        config = model.Config;
        cache = new KvCache(config, 1, config.ContextLength, device);
    }

    /// <summary>Loads config, weights and tokenizer from a checkpoint directory onto <paramref name="deviceSpec"/> ("cpu", "cuda", "auto").</summary>
    public static GptCompletionEngine Load(string checkpointDir, string deviceSpec = "cpu")
    {
        if (!Directory.Exists(checkpointDir)) throw new DirectoryNotFoundException($"checkpoint directory '{checkpointDir}' does not exist");
        var tokenizerDir = Path.Combine(checkpointDir, Checkpoint.TokenizerDirName);
        if (!Directory.Exists(tokenizerDir)) throw new InvalidDataException($"'{checkpointDir}' has no {Checkpoint.TokenizerDirName}/ directory: not a complete checkpoint");
        TorchNativeLoader.EnsureLoaded();
        var device = Devices.Resolve(deviceSpec);
        var (model, _) = Checkpoint.LoadModel(checkpointDir, device);
        var tokenizer = CodeTokenizer.Load(tokenizerDir);
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new InvalidDataException($"'{checkpointDir}': tokenizer has {tokenizer.VocabSize} tokens but the model only {model.Config.VocabSize}");
        return new GptCompletionEngine(model, tokenizer, device);
    }

    public GptConfig Config => config;
    public int ContextLength => config.ContextLength;
    public int CountTokens(string text) => tokenizer.Encode(text).Length;

    /// <summary>Runs one short completion so the first real request does not pay for lazy initialisation.</summary>
    public void WarmUp()
    {
        Complete(new FimPrompt("# language: Python\ndef add(a, b):\n    return", "\n", "Python"), new EngineOptions(4, 0), _ => false, CancellationToken.None);
    }

    public string Complete(FimPrompt prompt, EngineOptions options, Func<string, bool> shouldStop, CancellationToken ct)
    {
        var maxNew = Math.Max(1, Math.Min(options.MaxNewTokens, config.ContextLength - 8));
        var ids = PromptIds(prompt, config.ContextLength - maxNew);
        var random = options.Temperature > 0 ? new Random(HashCode.Combine(prompt.Prefix, prompt.Suffix)) : null;
        var bytes = new List<byte>();
        var text = "";
        using var noGrad = no_grad();

        // Reuse the cache for the longest shared start with what it holds; at least one token must be fed for logits.
        if (cached.Count != cache.Length) { cached.Clear(); cache.Truncate(0); } // an earlier step failed midway
        var common = 0;
        while (common < cached.Count && common < ids.Count - 1 && cached[common] == ids[common]) common++;
        cache.Truncate(common);
        cached.RemoveRange(common, cached.Count - common);
        var next = Step(ids.GetRange(common, ids.Count - common), options.Temperature, random);
        cached.AddRange(ids.Skip(common));

        for (var produced = 0; produced < maxNew; produced++)
        {
            ct.ThrowIfCancellationRequested();
            if (next < SpecialTokensCount) break; // end of text or a FIM marker: the middle is done
            bytes.AddRange(tokenizer.TokenBytesOf(next));
            text = DecodeComplete(bytes);
            if (shouldStop(text) || produced == maxNew - 1 || cache.Length >= cache.Capacity) break;
            var token = next;
            next = Step([token], options.Temperature, random);
            cached.Add(token);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private const int SpecialTokensCount = 5;

    private List<int> PromptIds(FimPrompt prompt, int maxTokens)
    {
        var prefix = tokenizer.Encode(prompt.Prefix);
        var suffix = tokenizer.Encode(prompt.Suffix);
        // The builder keeps within budget; this only guards a model whose context is smaller than the budget assumed.
        var over = prefix.Length + suffix.Length + 3 - maxTokens;
        var suffixTake = suffix.Length;
        var prefixSkip = 0;
        if (over > 0) { var s = Math.Min(over, suffixTake); suffixTake -= s; prefixSkip = Math.Min(prefix.Length, over - s); }
        var ids = new List<int>(prefix.Length + suffix.Length + 3) { tokenizer.FimPrefix };
        ids.AddRange(prefix.Skip(prefixSkip));
        ids.Add(tokenizer.FimSuffix);
        ids.AddRange(suffix.Take(suffixTake));
        ids.Add(tokenizer.FimMiddle);
        return ids;
    }

    /// <summary>Feeds <paramref name="tokens"/> after the cache and picks the next token.</summary>
    private int Step(List<int> tokens, float temperature, Random? random)
    {
        using var scope = NewDisposeScope();
        using var input = tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Count], dtype: ScalarType.Int64, device: device);
        var logits = model.forward(input, cache, lastOnly: true)[0, -1];
        if (tokenizer.VocabSize < logits.shape[0]) logits = logits.narrow(0, 0, tokenizer.VocabSize); // padded vocabulary rows are never real tokens
        if (temperature <= 0 || random == null) return (int)logits.argmax().item<long>();
        var probs = nn.functional.softmax(logits.to(ScalarType.Float32) / temperature, 0).cpu().data<float>().ToArray();
        var r = random.NextDouble();
        double acc = 0;
        for (var i = 0; i < probs.Length; i++) { acc += probs[i]; if (r < acc) return i; }
        return probs.Length - 1;
    }

    /// <summary>The text of the complete UTF-8 characters in <paramref name="bytes"/> (a token may end mid-character).</summary>
    private static string DecodeComplete(List<byte> bytes)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        var end = span.Length;
        for (var back = 1; back <= Math.Min(3, span.Length); back++)
        {
            var b = span[^back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte: keep looking for the lead
            var need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            if (need > back) end = span.Length - back;
            break;
        }
        return Encoding.UTF8.GetString(span[..end]);
    }

    public void Dispose()
    {
        cache.Dispose();
        model.Dispose();
    }
}
