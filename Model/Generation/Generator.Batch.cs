using static TorchSharp.torch;

namespace CodeLm.Model.Generation;

/// <summary>One prompt of a <see cref="Generator.DecodeBatch"/>: one sample, its own options, text callback and cancellation.</summary>
/// <paramref name="OnFinished"/> is told the prompt's completion as soon as its row ends, while the others may go on.
public sealed record BatchPrompt(IReadOnlyList<int> Prompt, SamplingOptions Options, TextCallback? OnText = null, CancellationToken Ct = default,
    Action<Completion>? OnFinished = null);

/// <summary>Different prompts decoded together: one step of the model serves every row.</summary>
public sealed partial class Generator
{
    /// <summary>
    /// The prompt-cache slots and new tokens a batch of <paramref name="promptLengths"/> and <paramref name="maxNewTokens"/>
    /// needs: rows are right-aligned at the longest prompt, so the batch fits when that prompt plus the most new tokens
    /// asked for fit the context.
    /// </summary>
    public bool FitsOneBatch(IEnumerable<(int PromptTokens, int MaxNewTokens)> prompts) =>
        prompts.Max(p => p.PromptTokens + 1) + prompts.Max(p => p.MaxNewTokens) <= ContextLength;

    /// <summary>
    /// Decodes different prompts as one batch, one sample each: each prompt is prefilled on its own (through the shared
    /// prompt cache, as <see cref="Decode"/> does), the rows are stacked right-aligned into one KV cache
    /// (<see cref="KvCache.Stack"/>, each row keeping its own positions), and every step then feeds one token per live
    /// row. A row ends as in <see cref="Decode"/> (its stop text, its callback, end-of-text, its own token budget) or when
    /// its own token is cancelled, and leaves the batch. Sample i draws from its own options' seed, so a prompt decodes
    /// here as it would alone, up to the float rounding of a batched step. No repetition penalty.
    /// </summary>
    public IReadOnlyList<Completion> DecodeBatch(IReadOnlyList<BatchPrompt> prompts)
    {
        if (prompts.Count == 0) return [];
        foreach (var p in prompts)
        {
            p.Options.Validate();
            if (p.Options.RepetitionPenalty != 1) throw new ArgumentException("A batch of prompts takes no repetition penalty.");
        }
        var ids = prompts.Select(p => WithBeginOfText(p.Prompt)).ToArray();
        foreach (var row in ids)
            foreach (var id in row)
                if ((uint)id >= (uint)_tokenizer.VocabSize) throw new ArgumentException($"Prompt token id {id} is outside the vocabulary (0..{_tokenizer.VocabSize - 1}).");
        int capacity = ids.Max(r => r.Length) + prompts.Max(p => p.Options.MaxNewTokens);
        if (capacity > ContextLength) throw new ArgumentException($"The batch needs {capacity} positions; the context holds {ContextLength}.");
        var samples = prompts.Select(p => new Sample(p.Options.StopSequences, p.Options.Seed)).ToArray();
        lock (_gate)
        {
            _promptThreads = get_num_threads();
            try { RunBatch(ids, prompts, samples, capacity); }
            finally { if (_options.OneThreadSteps) set_num_threads(_promptThreads); }
        }
        return samples.Select((s, i) => Result(s, ids[i].Length)).ToArray();
    }

    private static Completion Result(Sample s, int promptTokens) => new(s.Text.Text, s.Tokens.Count, s.FinishReason) { TokenIds = s.Tokens, PromptTokens = promptTokens };

    private void RunBatch(int[][] ids, IReadOnlyList<BatchPrompt> prompts, Sample[] samples, int capacity)
    {
        using var inference = inference_mode();
        var rows = new List<KvCache>(ids.Length);
        var first = new List<Tensor>(ids.Length);
        KvCache? cache = null;
        Tensor? logits = null;
        try
        {
            foreach (var row in ids)
            {
                first.Add(Prefill(row, 1, row.Length, out _)); // n = 1: the shared cache holds the prompt
                rows.Add(_cache.Kv.Repeat(1, row.Length));
            }
            cache = KvCache.Stack(rows, capacity);
            logits = cat(first, 0);
            var live = Enumerable.Range(0, ids.Length).ToList();
            for (int step = 0; ; step++)
            {
                using var scope = NewDisposeScope();
                var keep = new List<int>(live.Count);
                var feed = new List<long>(live.Count);
                for (int j = 0; j < live.Count; j++)
                {
                    int i = live[j];
                    var p = prompts[i];
                    bool goesOn;
                    if (p.Ct.IsCancellationRequested) { Finish(samples[i], i, FinishReason.Cancelled, p.OnText); goesOn = false; }
                    else
                    {
                        double[] uniform = [samples[i].Random.NextOpenUnit()];
                        long token = TokenSampler.Sample(logits.narrow(0, j, 1), null, p.Options, uniform)[0];
                        goesOn = AcceptOne(samples[i], i, token, p.Options, ids[i].Length + samples[i].Tokens.Count + 1 >= ContextLength, p.OnText);
                        if (goesOn) { keep.Add(j); feed.Add(token); }
                    }
                    if (!goesOn) p.OnFinished?.Invoke(Result(samples[i], ids[i].Length));
                }
                if (keep.Count == 0) break;
                if (keep.Count < live.Count)
                {
                    using var kept = tensor(keep.Select(j => (long)j).ToArray(), device: _device);
                    cache.SelectRows(kept);
                    live = keep.Select(j => live[j]).ToList();
                }
                var input = tensor(feed.ToArray(), device: _device).view(-1, 1);
                Replace(ref logits, Forward(cache, input));
            }
        }
        finally
        {
            logits?.Dispose();
            foreach (var t in first) t.Dispose();
            foreach (var r in rows) r.Dispose();
            cache?.Dispose();
        }
    }

    /// <summary>Takes one row's sampled token as <see cref="Accept"/> does for a batch of one prompt; true when the row goes on.</summary>
    private bool AcceptOne(Sample sample, int index, long next, SamplingOptions options, bool contextFull, TextCallback? onText)
    {
        int token = (int)next;
        if (IsSpecial(token)) { Finish(sample, index, FinishReason.EndOfText, onText); return false; }
        sample.Tokens.Add(token);
        var delta = sample.Text.Append(_tokenizer.TokenBytesOf(token));
        var stop = onText?.Invoke(index, delta) == true;
        if (sample.Text.Stopped || stop) { Finish(sample, index, FinishReason.Stop, onText); return false; }
        if (sample.Tokens.Count >= options.MaxNewTokens || contextFull) { Finish(sample, index, FinishReason.Length, onText); return false; }
        return true;
    }
}
