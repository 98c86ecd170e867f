using CodeLm.Model.Inference;
using CodeLm.Tokenizer;
using static TorchSharp.torch;

namespace CodeLm.Model.Generation;

/// <summary>Sees each step's logits [live samples, V] before sampling; <c>samples</c> lists which request rows are live.</summary>
public delegate void LogitsObserver(int step, IReadOnlyList<int> samples, Tensor logits);

/// <summary>Gets a piece of sample <paramref name="sample"/>'s text (see <see cref="Generator.Decode"/>); true ends that sample there.</summary>
public delegate bool TextCallback(int sample, string delta);

/// <summary>
/// The one decoding engine (`codelm sample`, `codelm eval`, `codelm serve`). It owns a KV cache over the whole context:
/// the prompt is prefilled once (batch 1; with <see cref="GeneratorOptions.ReuseKvCache"/>, only what the previous call
/// did not already hold), n samples get copies of its rows, then each step feeds one token per live sample. A sample that
/// finishes (stop text, the caller's callback, end-of-text, length) leaves the batch, so the rest run as a smaller one.
/// Calls run one at a time; the model must not be trained meanwhile. Disposing it disposes the model only when
/// <see cref="Load"/> created it.
/// </summary>
public sealed partial class Generator : IDisposable
{
    private readonly Gpt _model;
    private readonly CodeTokenizer _tokenizer;
    private readonly Device _device;
    private readonly GeneratorOptions _options;
    private readonly PromptCache _cache;
    private readonly Lock _gate = new();
    private int _promptThreads;
    private bool _ownsModel;

    /// <summary>Generation with <paramref name="model"/> (left in the mode it is in: no dropout, so eval and train decode alike).</summary>
    public Generator(Gpt model, CodeTokenizer tokenizer, Device device, GeneratorOptions? options = null)
    {
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} tokens but the model only {model.Config.VocabSize}; they do not belong together.");
        _model = model;
        _tokenizer = tokenizer;
        _device = device;
        _options = options ?? new GeneratorOptions();
        _cache = new PromptCache(model.Config, device, model.parameters().First().dtype);
    }

    /// <summary>
    /// A generator for a checkpoint directory (config.json + model.safetensors + tokenizer/), or for a training run
    /// directory, in which case its best/ checkpoint, else its latest one, is used.
    /// </summary>
    /// <param name="progress">Told how loading goes, about once a second, for loads that take longer (open models).</param>
    /// <param name="options">How it runs, including the weights it computes with (<see cref="GeneratorOptions.Precision"/>).</param>
    public static Generator Load(string checkpointOrRunDir, Device device, Action<string>? progress = null, GeneratorOptions? options = null)
    {
        options ??= new GeneratorOptions();
        var (model, _, tokenizer) = CpuInference.Load(Checkpoint.Resolve(checkpointOrRunDir), device, options.Precision, progress);
        try
        {
            return new Generator(model, tokenizer, device, options) { _ownsModel = true };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>What the model computes with, e.g. "int8 steps, bfloat16 prompts" (see <see cref="GeneratorOptions.Precision"/>).</summary>
    public InferenceWeights Weights => CpuInference.WeightsOf(_model);

    public Gpt Model => _model;
    public CodeTokenizer Tokenizer => _tokenizer;
    public int ContextLength => _model.Config.ContextLength;

    /// <summary>Diagnostics hook (tests, log-probs): called once per step before sampling.</summary>
    public LogitsObserver? OnLogits { get; set; }

    /// <summary>
    /// Continues <paramref name="prompt"/> n times. <paramref name="onToken"/> gets (sample index, text delta) for every
    /// generated token, the delta being empty while bytes form an incomplete character or may start a stop sequence, plus
    /// one last call with any held-back text when a sample ends; a sample's deltas concatenate to its <see cref="Completion.Text"/>.
    /// </summary>
    public IReadOnlyList<Completion> Generate(string prompt, int n, SamplingOptions options, Action<int, string>? onToken = null, CancellationToken ct = default) =>
        GenerateTokens(BuildPrompt(prompt, options), n, options, onToken, ct);

    /// <summary>Fills in the middle between <paramref name="prefix"/> and <paramref name="suffix"/> (see <see cref="BuildFimPrompt"/>).</summary>
    public IReadOnlyList<Completion> GenerateFim(string prefix, string suffix, int n, SamplingOptions options, Action<int, string>? onToken = null, CancellationToken ct = default) =>
        GenerateTokens(BuildFimPrompt(prefix, suffix, options), n, options, onToken, ct);

    /// <summary><see cref="Decode"/> with a callback that only watches.</summary>
    public IReadOnlyList<Completion> GenerateTokens(IReadOnlyList<int> prompt, int n, SamplingOptions options, Action<int, string>? onToken = null, CancellationToken ct = default) =>
        Decode(prompt, n, options, onToken == null ? null : (i, delta) => { onToken(i, delta); return false; }, ct);

    /// <summary>
    /// The decoding loop on prompt token ids (an empty prompt starts from end-of-text, i.e. a fresh document).
    /// <paramref name="onText"/> gets (sample index, text delta) for every generated token, the delta being empty while
    /// bytes form an incomplete character or may start a stop sequence, plus one last call with any held-back text when a
    /// sample ends; a sample's deltas concatenate to its <see cref="Completion.Text"/>. Returning true ends the sample
    /// after that token (<see cref="FinishReason.Stop"/>). Cancellation is checked after every step.
    /// </summary>
    public IReadOnlyList<Completion> Decode(IReadOnlyList<int> prompt, int n, SamplingOptions options, TextCallback? onText, CancellationToken ct = default)
    {
        options.Validate();
        if (n < 1) throw new ArgumentException($"The number of samples must be at least 1 (got {n}).");
        int[] ids = WithBeginOfText(prompt);
        foreach (var id in ids)
            if ((uint)id >= (uint)_tokenizer.VocabSize) throw new ArgumentException($"Prompt token id {id} is outside the vocabulary (0..{_tokenizer.VocabSize - 1}).");

        var samples = new Sample[n];
        for (int i = 0; i < n; i++) samples[i] = new Sample(options.StopSequences, options.Seed + i);
        if (ct.IsCancellationRequested) return Results(samples, ids.Length, FinishReason.Cancelled);
        lock (_gate)
        {
            _promptThreads = get_num_threads();
            try { Run(ids, samples, options, onText, ct); }
            finally { if (_options.OneThreadSteps) set_num_threads(_promptThreads); }
        }
        return Results(samples, ids.Length, null);
    }

    private void Run(int[] ids, Sample[] samples, SamplingOptions options, TextCallback? onText, CancellationToken ct)
    {
        using var inference = inference_mode();
        int n = samples.Length, capacity = Math.Min(ContextLength, ids.Length + options.MaxNewTokens);
        var logits = Prefill(ids, n, capacity, out var rows);
        var cache = rows ?? _cache.Kv; // n > 1: the samples' own rows, so the shared cache keeps only the prompt
        Tensor? seen = null, trues = null;
        try
        {
            if (options.RepetitionPenalty != 1) (seen, trues) = SeenMask(ids, n);
            var live = Enumerable.Range(0, n).ToList();
            var uniforms = new double[n];
            for (int step = 0; ; step++)
            {
                using var scope = NewDisposeScope();
                OnLogits?.Invoke(step, live, logits);
                for (int j = 0; j < live.Count; j++) uniforms[j] = samples[live[j]].Random.NextOpenUnit();
                var next = TokenSampler.Sample(logits, seen, options, uniforms.AsSpan(0, live.Count));
                var keep = Accept(next, live, samples, options, cache.Length >= capacity, onText);
                if (keep.Count == 0) break;
                if (ct.IsCancellationRequested)
                {
                    foreach (var j in keep) Finish(samples[live[j]], live[j], FinishReason.Cancelled, onText);
                    break;
                }

                var feed = new long[keep.Count];
                for (int r = 0; r < keep.Count; r++) feed[r] = next[keep[r]];
                if (keep.Count < live.Count) // only with n > 1: a lone sample that stops ends the loop above
                {
                    using var kept = tensor(keep.Select(j => (long)j).ToArray(), device: _device);
                    cache.SelectRows(kept);
                    if (seen is not null) Replace(ref seen, seen.index_select(0, kept));
                    live = keep.Select(j => live[j]).ToList();
                }
                var input = tensor(feed, device: _device).view(-1, 1);
                seen?.scatter_(1, input, trues!.narrow(0, 0, feed.Length));
                Replace(ref logits, Forward(cache, input));
                if (rows is null) _cache.Fed([(int)feed[0]]);
            }
        }
        finally
        {
            logits.Dispose();
            seen?.Dispose();
            trues?.Dispose();
            rows?.Dispose();
        }
    }

    /// <summary>
    /// Feeds what the shared cache does not hold of <paramref name="ids"/> and returns the next-token logits, one row per
    /// sample; for n &gt; 1 the samples get <paramref name="rows"/> of their own, copied from the prompt's.
    /// </summary>
    private Tensor Prefill(int[] ids, int n, int capacity, out KvCache? rows)
    {
        using var scope = NewDisposeScope();
        int kept = _cache.Keep(ids, _options.ReuseKvCache);
        var logits = Forward(_cache.Kv, tensor(Array.ConvertAll(ids[kept..], x => (long)x), device: _device).view(1, -1));
        _cache.Fed(ids.AsSpan(kept));
        rows = null;
        if (n == 1) return logits.DetachFromDisposeScope();
        rows = _cache.Kv.Repeat(n, capacity);
        return logits.expand(n, -1).contiguous().DetachFromDisposeScope(); // its own rows, so an observer may edit them
    }

    /// <summary>Which prompt tokens each of <paramref name="n"/> samples has seen (bool [n, V]), and a column of trues to mark more.</summary>
    private (Tensor Seen, Tensor Trues) SeenMask(int[] ids, int n)
    {
        using var scope = NewDisposeScope();
        using var prompt = tensor(Array.ConvertAll(ids, x => (long)x), device: _device);
        var seen = zeros([n, _tokenizer.VocabSize], ScalarType.Bool, _device).index_fill_(1, prompt, true);
        return (seen.DetachFromDisposeScope(), ones([n, 1], ScalarType.Bool, _device).DetachFromDisposeScope());
    }

    /// <summary>
    /// Takes each live sample's sampled token (index j of <paramref name="next"/>) into its text and streams it; returns
    /// the j of the samples that go on.
    /// </summary>
    private List<int> Accept(long[] next, List<int> live, Sample[] samples, SamplingOptions options, bool contextFull, TextCallback? onText)
    {
        var keep = new List<int>(live.Count);
        for (int j = 0; j < live.Count; j++)
        {
            int index = live[j];
            var sample = samples[index];
            int token = (int)next[j];
            if (IsSpecial(token)) { Finish(sample, index, FinishReason.EndOfText, onText); continue; }
            sample.Tokens.Add(token);
            var delta = sample.Text.Append(_tokenizer.TokenBytesOf(token)); // not inside onText?.Invoke(...): that skips it when null
            var stop = onText?.Invoke(index, delta) == true;
            if (sample.Text.Stopped || stop) Finish(sample, index, FinishReason.Stop, onText);
            else if (sample.Tokens.Count >= options.MaxNewTokens || contextFull) Finish(sample, index, FinishReason.Length, onText);
            else keep.Add(j);
        }
        return keep;
    }

    /// <summary>Last-position logits [rows, vocabulary] for <paramref name="input"/> [rows, T] placed after the cache.</summary>
    private Tensor Forward(KvCache cache, Tensor input)
    {
        if (_options.OneThreadSteps) set_num_threads(input.numel() == 1 ? 1 : _promptThreads);
        var logits = _model.forward(input, cache, lastOnly: true).select(1, 0);
        // The model may pad its vocabulary past the tokenizer's; those rows are never sampled.
        return logits.shape[^1] == _tokenizer.VocabSize ? logits : logits.narrow(-1, 0, _tokenizer.VocabSize);
    }

    private sealed class Sample(IReadOnlyList<string>? stops, long seed)
    {
        public readonly CompletionText Text = new(stops);
        public readonly SequenceRandom Random = new(seed);
        public readonly List<int> Tokens = [];
        public FinishReason FinishReason;
    }

    private static void Finish(Sample sample, int index, FinishReason reason, TextCallback? onText)
    {
        sample.FinishReason = reason;
        var rest = sample.Text.Finish();
        if (rest.Length > 0) onText?.Invoke(index, rest);
    }

    private static Completion[] Results(Sample[] samples, int promptTokens, FinishReason? reason) =>
        samples.Select(s => new Completion(s.Text.Text, s.Tokens.Count, reason ?? s.FinishReason) { TokenIds = s.Tokens, PromptTokens = promptTokens }).ToArray();

    /// <summary>End-of-text, a FIM sentinel or another special token: the document, or the middle, is done.</summary>
    private bool IsSpecial(int token) => _tokenizer.IsSpecial(token);

    /// <summary>
    /// The prompt as the model saw documents in training: after its begin-of-text token when its tokenizer adds one
    /// (DeepSeek-Coder, Llama), cut to leave room for one new token; an empty prompt is that token, or end-of-text.
    /// </summary>
    private int[] WithBeginOfText(IReadOnlyList<int> prompt)
    {
        int? bos = _tokenizer.BeginOfText;
        if (prompt.Count == 0) return [bos ?? _tokenizer.EndOfText];
        if (bos is not int b || prompt[0] == b) return PromptBudget.KeepEnd(prompt, ContextLength - 1);
        return [b, .. PromptBudget.KeepEnd(prompt, ContextLength - 2)];
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _cache.Dispose();
            if (_ownsModel) _model.Dispose();
            _ownsModel = false;
        }
    }

    private static void Replace(ref Tensor slot, Tensor value)
    {
        var old = slot;
        slot = value.DetachFromDisposeScope();
        old.Dispose();
    }
}
