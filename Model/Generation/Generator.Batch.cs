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
    /// <para>
    /// Continuous batching: before every step <paramref name="offer"/> (when given) is asked for more prompts; it calls
    /// the function it is handed with its next prompt, which takes the prompt (true) if it can join now, and answers
    /// whether it gave one. A joining prompt is prefilled and joins the running cache (<see cref="KvCache.Join"/>); its
    /// completion reaches its <see cref="BatchPrompt.OnFinished"/> only. A prompt that does not fit beside the running
    /// rows in the context, or cannot be decoded in a batch, is not taken.
    /// </para>
    /// </summary>
    public IReadOnlyList<Completion> DecodeBatch(IReadOnlyList<BatchPrompt> prompts, Func<Func<BatchPrompt, bool>, bool>? offer = null)
    {
        if (prompts.Count == 0) return [];
        var rows = prompts.Select(p => new BatchRow(p, Checked(p))).ToList();
        int capacity = rows.Max(r => r.Ids.Length) + prompts.Max(p => p.Options.MaxNewTokens);
        if (capacity > ContextLength) throw new ArgumentException($"The batch needs {capacity} positions; the context holds {ContextLength}.");
        lock (_gate)
        {
            _promptThreads = get_num_threads();
            try { RunBatch(rows, offer); }
            finally { if (_options.OneThreadSteps) set_num_threads(_promptThreads); }
        }
        return rows.Select(r => r.Result()).ToArray();
    }

    /// <summary>A prompt of a batch: its ids (with begin-of-text) and its sample.</summary>
    private sealed class BatchRow(BatchPrompt prompt, int[] ids)
    {
        public readonly BatchPrompt Prompt = prompt;
        public readonly int[] Ids = ids;
        public readonly Sample Sample = new(prompt.Options.StopSequences, prompt.Options.Seed);
        public int Remaining => Prompt.Options.MaxNewTokens - Sample.Tokens.Count;
        public Completion Result() => new(Sample.Text.Text, Sample.Tokens.Count, Sample.FinishReason) { TokenIds = Sample.Tokens, PromptTokens = Ids.Length };
    }

    /// <summary>The prompt's ids with begin-of-text, after the checks <see cref="Decode"/> makes and those of a batch.</summary>
    private int[] Checked(BatchPrompt p)
    {
        p.Options.Validate();
        if (p.Options.RepetitionPenalty != 1) throw new ArgumentException("A batch of prompts takes no repetition penalty.");
        var ids = WithBeginOfText(p.Prompt);
        foreach (var id in ids)
            if ((uint)id >= (uint)_tokenizer.VocabSize) throw new ArgumentException($"Prompt token id {id} is outside the vocabulary (0..{_tokenizer.VocabSize - 1}).");
        return ids;
    }

    private void RunBatch(List<BatchRow> first, Func<Func<BatchPrompt, bool>, bool>? offer)
    {
        using var inference = inference_mode();
        var live = new List<BatchRow>();
        KvCache? cache = null;
        Tensor? logits = null;
        try
        {
            Join(ref cache, ref logits, live, first);
            for (int step = 0; ; step++)
            {
                if (offer != null) Join(ref cache, ref logits, live, Newcomers(cache!, live, offer));
                if (live.Count == 0) break;
                using var scope = NewDisposeScope();
                var keep = new List<int>(live.Count);
                var feed = new List<long>(live.Count);
                for (int j = 0; j < live.Count; j++)
                {
                    var row = live[j];
                    var p = row.Prompt;
                    bool goesOn;
                    if (p.Ct.IsCancellationRequested) { Finish(row.Sample, j, FinishReason.Cancelled, p.OnText); goesOn = false; }
                    else
                    {
                        double[] uniform = [row.Sample.Random.NextOpenUnit()];
                        long token = TokenSampler.Sample(logits!.narrow(0, j, 1), null, p.Options, uniform)[0];
                        goesOn = AcceptOne(row.Sample, j, token, p.Options, row.Ids.Length + row.Sample.Tokens.Count + 1 >= ContextLength, p.OnText);
                        if (goesOn) { keep.Add(j); feed.Add(token); }
                    }
                    if (!goesOn) p.OnFinished?.Invoke(row.Result());
                }
                if (keep.Count < live.Count)
                {
                    live = keep.Select(j => live[j]).ToList();
                    if (keep.Count == 0) { logits!.Dispose(); logits = null; continue; } // newcomers may still join
                    using var kept = tensor(keep.Select(j => (long)j).ToArray(), device: _device);
                    cache!.SelectRows(kept);
                }
                var input = tensor(feed.ToArray(), device: _device).view(-1, 1);
                var next = Forward(cache!, input).DetachFromDisposeScope();
                logits!.Dispose();
                logits = next;
            }
        }
        finally
        {
            logits?.Dispose();
            cache?.Dispose();
        }
    }

    /// <summary>The prompts <paramref name="offer"/> gives that fit beside <paramref name="live"/> in the context, taken in turn.</summary>
    private List<BatchRow> Newcomers(KvCache cache, List<BatchRow> live, Func<Func<BatchPrompt, bool>, bool> offer)
    {
        var taken = new List<BatchRow>();
        int length = live.Count == 0 ? 0 : cache.TrimmedLength, remaining = live.Count == 0 ? 0 : live.Max(r => r.Remaining);
        bool Take(BatchPrompt p)
        {
            int[] ids;
            try { ids = Checked(p); }
            catch (ArgumentException) { return false; } // decoded alone instead, where its error is its own
            // Every row's slots and new tokens must stay inside the context, which bounds the model's positions.
            int joinedLength = Math.Max(length, ids.Length), joinedRemaining = Math.Max(remaining, p.Options.MaxNewTokens);
            if (joinedLength + joinedRemaining > ContextLength) return false;
            (length, remaining) = (joinedLength, joinedRemaining);
            taken.Add(new BatchRow(p, ids));
            return true;
        }
        while (offer(Take)) { }
        return taken;
    }

    /// <summary>Prefills <paramref name="rows"/> alone and adds them to the running cache and logits, after the live rows.</summary>
    private void Join(ref KvCache? cache, ref Tensor? logits, List<BatchRow> live, List<BatchRow> rows)
    {
        if (rows.Count == 0) return;
        using var scope = NewDisposeScope(); // what the copies and prefills leave behind goes with the join
        var caches = new List<KvCache>(rows.Count);
        var parts = new List<Tensor>(rows.Count);
        try
        {
            foreach (var row in rows)
            {
                parts.Add(Prefill(row.Ids, 1, row.Ids.Length, out _)); // n = 1: the shared cache holds the prompt
                caches.Add(_cache.Kv.Repeat(1, row.Ids.Length));
            }
            var running = live.Count == 0 ? null : cache;
            int length = Math.Max(running?.TrimmedLength ?? 0, rows.Max(r => r.Ids.Length));
            var joined = KvCache.Join(running, caches, length + live.Concat(rows).Max(r => r.Remaining));
            cache?.Dispose();
            cache = joined;
            var stacked = (running == null ? cat(parts, 0) : cat([logits!, .. parts], 0)).DetachFromDisposeScope();
            logits?.Dispose();
            logits = stacked;
            live.AddRange(rows);
        }
        finally
        {
            foreach (var t in parts) t.Dispose();
            foreach (var c in caches) c.Dispose();
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
