using CodeLm.Common;
using CodeLm.Tokenizer;
using static TorchSharp.torch;

namespace CodeLm.Model.Generation;

/// <summary>Sees each step's logits [live samples, V] before sampling; <c>samples</c> lists which request rows are live.</summary>
public delegate void LogitsObserver(int step, IReadOnlyList<int> samples, Tensor logits);

/// <summary>
/// Incremental decoding with a preallocated KV cache: the prompt is prefilled once (batch 1), the cache is copied to the
/// n sample rows, then each step feeds one token per live sample. A sample that finishes (stop text, end-of-text, length)
/// is dropped from the batch, so the remaining ones run as fast as a smaller batch.
/// Safe to call from several threads at once (each call owns its cache); the model must not be trained meanwhile.
/// Disposing it disposes the model only when <see cref="Load"/> created it.
/// </summary>
public sealed class Generator : IDisposable
{
    private readonly Gpt _model;
    private readonly CodeTokenizer _tokenizer;
    private readonly Device _device;
    private readonly ScalarType _dtype;
    private bool _ownsModel;

    /// <summary>Generation with <paramref name="model"/> (left in the mode it is in: no dropout, so eval and train decode alike).</summary>
    public Generator(Gpt model, CodeTokenizer tokenizer, Device device)
    {
        _model = model;
        _tokenizer = tokenizer;
        _device = device;
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} tokens but the model only {model.Config.VocabSize}; they do not belong together.");
        _dtype = model.parameters().First().dtype;
    }

    /// <summary>
    /// A generator for a checkpoint directory (config.json + model.safetensors + tokenizer/), or for a training run
    /// directory, in which case its best/ checkpoint, else its latest one, is used.
    /// </summary>
    public static Generator Load(string checkpointOrRunDir, Device device)
    {
        var (model, _, tokenizer) = Checkpoint.Load(Checkpoint.Resolve(checkpointOrRunDir), device);
        return new Generator(model, tokenizer, device) { _ownsModel = true };
    }

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

    /// <summary>Fills in the middle between <paramref name="prefix"/> and <paramref name="suffix"/> (see <see cref="FimPrompt"/>).</summary>
    public IReadOnlyList<Completion> GenerateFim(string prefix, string suffix, int n, SamplingOptions options, Action<int, string>? onToken = null, CancellationToken ct = default) =>
        GenerateTokens(BuildFimPrompt(prefix, suffix, options), n, options, onToken, ct);

    /// <summary>
    /// The prompt ids <see cref="Generate"/> feeds: the whole text encoded at once, or when too long its last tokens
    /// (after a leading language tag line, which is kept).
    /// </summary>
    public int[] BuildPrompt(string prompt, SamplingOptions options)
    {
        options.Validate();
        int budget = PromptBudget.PromptTokens(ContextLength, options.MaxNewTokens, options.MaxPromptTokens);
        var ids = _tokenizer.Encode(prompt);
        if (ids.Length <= budget) return ids;
        var tag = LanguageTag.ReadLine(prompt);
        return tag is null
            ? PromptBudget.KeepEnd(ids, budget)
            : PromptBudget.KeepEnd(_tokenizer.Encode(prompt[tag.Length..]), budget, _tokenizer.Encode(tag));
    }

    /// <summary>
    /// The prompt ids <see cref="GenerateFim"/> feeds: prefix and suffix encoded separately, as the trainer's FIM transform
    /// does, cut to the budget (end of the prefix, start of the suffix; a leading language tag line is kept), then laid out.
    /// </summary>
    public int[] BuildFimPrompt(string prefix, string suffix, SamplingOptions options)
    {
        options.Validate();
        int budget = Math.Max(0, PromptBudget.PromptTokens(ContextLength, options.MaxNewTokens, options.MaxPromptTokens) - FimLayout.SentinelCount);
        var p = _tokenizer.Encode(prefix);
        var s = _tokenizer.Encode(suffix);
        int[] pinned = [];
        if (p.Length + s.Length > budget && LanguageTag.ReadLine(prefix) is { } tag)
        {
            var tagIds = _tokenizer.Encode(tag);
            if (tagIds.Length < budget) { pinned = tagIds; p = _tokenizer.Encode(prefix[tag.Length..]); }
        }
        var (keepPrefix, keepSuffix) = PromptBudget.SplitFim(pinned.Length + p.Length, s.Length, budget, options.FimPrefixShare);
        keepPrefix = Math.Max(0, keepPrefix - pinned.Length);
        int[] keptPrefix = [.. pinned, .. p.AsSpan(p.Length - keepPrefix)];
        return FimLayout.Prompt(options.FimFormat, _tokenizer.Fim, keptPrefix, s[..keepSuffix]);
    }

    /// <summary>The decoding loop on prompt token ids (an empty prompt starts from end-of-text, i.e. a fresh document).</summary>
    public IReadOnlyList<Completion> GenerateTokens(IReadOnlyList<int> prompt, int n, SamplingOptions options, Action<int, string>? onToken = null, CancellationToken ct = default)
    {
        options.Validate();
        if (n < 1) throw new ArgumentException($"The number of samples must be at least 1 (got {n}).");
        int[] ids = prompt.Count == 0 ? [_tokenizer.EndOfText] : PromptBudget.KeepEnd(prompt, ContextLength - 1);
        foreach (var id in ids)
            if ((uint)id >= (uint)_tokenizer.VocabSize) throw new ArgumentException($"Prompt token id {id} is outside the vocabulary (0..{_tokenizer.VocabSize - 1}).");

        var samples = new Sample[n];
        for (int i = 0; i < n; i++) samples[i] = new Sample(options.StopSequences, options.Seed + i);
        if (ct.IsCancellationRequested) return Results(samples, ids.Length, FinishReasons.Cancelled);

        using var inference = inference_mode();
        int capacity = Math.Min(ContextLength, ids.Length + options.MaxNewTokens);
        using var cache = new KvCache(_model.Config, 1, capacity, _device, _dtype);
        bool penalize = options.RepetitionPenalty != 1;
        Tensor logits;
        Tensor? seen = null, trues = null;
        using (NewDisposeScope())
        {
            using var input = tensor(Array.ConvertAll(ids, x => (long)x), device: _device).view(1, -1);
            var last = Vocab(_model.forward(input, cache, lastOnly: true).select(1, 0));
            if (penalize)
            {
                seen = zeros([1, _tokenizer.VocabSize], ScalarType.Bool, _device).index_fill_(1, input.view(-1), true);
                if (n > 1) seen = seen.repeat(n, 1);
                seen = seen.DetachFromDisposeScope();
                trues = ones([n, 1], ScalarType.Bool, _device).DetachFromDisposeScope();
            }
            if (n > 1)
            {
                cache.SelectRows(zeros(n, ScalarType.Int64, _device));
                last = last.expand(n, -1).contiguous(); // its own rows, so an observer may edit them
            }
            logits = last.DetachFromDisposeScope();
        }

        var live = Enumerable.Range(0, n).ToList();
        var uniforms = new double[n];
        try
        {
            for (int step = 0; ; step++)
            {
                using var scope = NewDisposeScope();
                OnLogits?.Invoke(step, live, logits);
                for (int j = 0; j < live.Count; j++) uniforms[j] = samples[live[j]].Random.NextOpenUnit();
                var next = TokenSampler.Sample(logits, seen, options, uniforms.AsSpan(0, live.Count));

                var keep = new List<int>(live.Count);
                for (int j = 0; j < live.Count; j++)
                {
                    int index = live[j];
                    var sample = samples[index];
                    int token = (int)next[j];
                    if (IsSpecial(token)) { Finish(sample, index, FinishReasons.EndOfText, onToken); continue; }
                    sample.Tokens.Add(token);
                    var delta = sample.Text.Append(_tokenizer.TokenBytesOf(token)); // not inside onToken?.Invoke(...): that skips it when null
                    onToken?.Invoke(index, delta);
                    if (sample.Text.Stopped) Finish(sample, index, FinishReasons.Stop, onToken);
                    else if (sample.Tokens.Count >= options.MaxNewTokens || cache.Length >= capacity) Finish(sample, index, FinishReasons.Length, onToken);
                    else keep.Add(j);
                }
                if (keep.Count == 0) break;
                if (ct.IsCancellationRequested)
                {
                    foreach (var j in keep) Finish(samples[live[j]], live[j], FinishReasons.Cancelled, onToken);
                    break;
                }

                var feed = new long[keep.Count];
                for (int r = 0; r < keep.Count; r++) feed[r] = next[keep[r]];
                if (keep.Count < live.Count)
                {
                    using var rows = tensor(keep.Select(j => (long)j).ToArray(), device: _device);
                    cache.SelectRows(rows);
                    if (seen is not null) Replace(ref seen, seen.index_select(0, rows));
                    live = keep.Select(j => live[j]).ToList();
                }
                var input = tensor(feed, device: _device).view(-1, 1);
                seen?.scatter_(1, input, trues!.narrow(0, 0, feed.Length));
                Replace(ref logits, Vocab(_model.forward(input, cache, lastOnly: true).select(1, 0)));
            }
        }
        finally
        {
            logits.Dispose();
            seen?.Dispose();
            trues?.Dispose();
        }
        return Results(samples, ids.Length, null);
    }

    private sealed class Sample(IReadOnlyList<string>? stops, long seed)
    {
        public readonly CompletionText Text = new(stops);
        public readonly SequenceRandom Random = new(seed);
        public readonly List<int> Tokens = [];
        public string? FinishReason;
    }

    private static void Finish(Sample sample, int index, string reason, Action<int, string>? onToken)
    {
        sample.FinishReason = reason;
        var rest = sample.Text.Finish();
        if (rest.Length > 0) onToken?.Invoke(index, rest);
    }

    private static Completion[] Results(Sample[] samples, int promptTokens, string? reason) =>
        samples.Select(s => new Completion(s.Text.Text, s.Tokens.Count, reason ?? s.FinishReason!) { TokenIds = s.Tokens, PromptTokens = promptTokens }).ToArray();

    /// <summary>The model may pad its vocabulary past the tokenizer's; those rows are never sampled.</summary>
    private Tensor Vocab(Tensor logits) => logits.shape[^1] == _tokenizer.VocabSize ? logits : logits.narrow(-1, 0, _tokenizer.VocabSize);

    private bool IsSpecial(int token) =>
        token == _tokenizer.EndOfText || token == _tokenizer.FimPrefix || token == _tokenizer.FimMiddle || token == _tokenizer.FimSuffix || token == _tokenizer.FimPad;

    public void Dispose()
    {
        if (_ownsModel) _model.Dispose();
        _ownsModel = false;
    }

    private static void Replace(ref Tensor slot, Tensor value)
    {
        var old = slot;
        slot = value.DetachFromDisposeScope();
        old.Dispose();
    }
}
