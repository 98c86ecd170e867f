using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace CodeLm.Tokenizer.Training;

/// <summary>Training settings. <paramref name="VocabSize"/> counts the 5 specials and 256 byte tokens.</summary>
/// <param name="Split">The pre-tokenizer, written into tokenizer.json (<see cref="SplitRule"/>).</param>
public sealed record BpeTrainerOptions(int VocabSize = 32768, long MinFrequency = 2, int Threads = 0, SplitRule Split = SplitRule.CodeLm)
{
    public void Validate()
    {
        var floor = SpecialTokens.All.Count + 256;
        if (VocabSize < floor) throw new ArgumentOutOfRangeException(nameof(VocabSize), VocabSize, $"vocabulary size must be at least {floor} (5 specials + 256 bytes)");
        if (MinFrequency < 1) throw new ArgumentOutOfRangeException(nameof(MinFrequency), MinFrequency, "minimum pair frequency must be at least 1");
    }
}

/// <summary>Where training is: <c>Phase</c> is "count" (Done/Total in documents) or "merge" (in vocabulary entries).</summary>
public sealed record BpeTrainingProgress(string Phase, long Done, long Total);

/// <summary>A trained vocabulary: token strings by id (byte-level) and merges by rank.</summary>
public sealed record TrainedBpe(IReadOnlyList<string> Tokens, IReadOnlyList<(string Left, string Right)> Merges, long Words, long UniqueWords,
    SplitRule Split = SplitRule.CodeLm)
{
    /// <summary>Writes tokenizer.json, vocab.json and merges.txt.</summary>
    public void Save(string directory) => TokenizerFiles.Save(directory, Tokens, Merges, Split);
}

/// <summary>
/// Byte-level BPE trainer. Pre-tokenizes with the options' <see cref="SplitRule"/> and counts unique pieces in parallel, then
/// merges with incremental pair counts: a max-heap of (count, pair) with lazy invalidation and a pair → words index, so
/// each merge touches only the words that contain the pair. Ties break on the smaller pair of ids, so output is deterministic.
/// </summary>
public static class BpeTrainer
{
    public static TrainedBpe Train(IEnumerable<string> documents, BpeTrainerOptions options,
        IProgress<BpeTrainingProgress>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        var counts = CountWords(documents, options.Threads, progress, ct, options.Split);
        return Train(counts, options, progress, ct);
    }

    /// <summary>Counts pre-tokenized pieces over all documents, in parallel.</summary>
    public static Dictionary<string, long> CountWords(IEnumerable<string> documents, int threads = 0,
        IProgress<BpeTrainingProgress>? progress = null, CancellationToken ct = default, SplitRule split = SplitRule.CodeLm)
    {
        var locals = new ConcurrentBag<Dictionary<string, long>>();
        long done = 0;
        var parallel = new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.ForEach(documents, parallel,
            () => new Dictionary<string, long>(StringComparer.Ordinal),
            (doc, state, local) =>
            {
                var lookup = local.GetAlternateLookup<ReadOnlySpan<char>>();
                var text = (split == SplitRule.CodeLm ? doc : CodeTokenizer.WellFormed(doc)).AsSpan(); // CodeLm's own scanner reads lone surrogates as U+FFFD itself
                foreach (var piece in SplitRules.Split(split, text))
                    CollectionsMarshal.GetValueRefOrAddDefault(lookup, text[piece], out _)++;
                var n = Interlocked.Increment(ref done);
                if ((n & 255) == 0) progress?.Report(new BpeTrainingProgress("count", n, 0));
                return local;
            },
            locals.Add);
        Dictionary<string, long>? total = null;
        foreach (var d in locals)
        {
            if (total == null || d.Count > total.Count) { if (total != null) Add(d, total); total = d; }
            else Add(total, d);
        }
        progress?.Report(new BpeTrainingProgress("count", done, done));
        return total ?? new Dictionary<string, long>(StringComparer.Ordinal);

        static void Add(Dictionary<string, long> into, Dictionary<string, long> from)
        {
            foreach (var (k, v) in from) CollectionsMarshal.GetValueRefOrAddDefault(into, k, out _) += v;
        }
    }

    /// <summary>Learns merges from piece counts until the vocabulary is full or no pair is frequent enough.</summary>
    public static TrainedBpe Train(IReadOnlyDictionary<string, long> wordCounts, BpeTrainerOptions options,
        IProgress<BpeTrainingProgress>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        var tokens = new List<string>(options.VocabSize);
        tokens.AddRange(SpecialTokens.All);
        for (var b = 0; b < 256; b++) tokens.Add(ByteLevel.ByteToChar[b].ToString());
        var idOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++) idOf[tokens[i]] = i;

        // Words as byte-token id arrays, sorted for a deterministic layout.
        var keys = wordCounts.Keys.ToArray();
        Array.Sort(keys, StringComparer.Ordinal);
        var words = new int[keys.Length][];
        var lengths = new int[keys.Length];
        var freq = new long[keys.Length];
        long totalWords = 0;
        for (var w = 0; w < keys.Length; w++)
        {
            var bytes = Encoding.UTF8.GetBytes(keys[w]);
            var sym = new int[bytes.Length];
            for (var i = 0; i < bytes.Length; i++) sym[i] = SpecialTokens.FirstByteId + bytes[i];
            words[w] = sym;
            lengths[w] = sym.Length;
            freq[w] = wordCounts[keys[w]];
            totalWords += freq[w];
        }

        var pairCount = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, List<int>>();
        for (var w = 0; w < words.Length; w++)
        {
            var sym = words[w];
            for (var i = 0; i + 1 < sym.Length; i++)
            {
                var p = Key(sym[i], sym[i + 1]);
                CollectionsMarshal.GetValueRefOrAddDefault(pairCount, p, out _) += freq[w];
                var list = CollectionsMarshal.GetValueRefOrAddDefault(pairWords, p, out _) ??= [];
                if (list.Count == 0 || list[^1] != w) list.Add(w);
            }
        }
        var heap = new PriorityQueue<long, (long Count, long Pair)>(pairCount.Count, HeapOrder.Instance);
        foreach (var (p, c) in pairCount) heap.Enqueue(p, (c, p));

        var merges = new List<(string, string)>();
        var touched = new HashSet<long>();
        while (tokens.Count < options.VocabSize && heap.TryDequeue(out var pair, out var entry))
        {
            ct.ThrowIfCancellationRequested();
            pairCount.TryGetValue(pair, out var count);
            if (count != entry.Count)
            {
                if (count > 0) heap.Enqueue(pair, (count, pair)); // stale entry: requeue with the true count
                continue;
            }
            if (count < options.MinFrequency) break;

            int a = (int)(pair >> 32), b = (int)(uint)pair;
            var text = tokens[a] + tokens[b];
            if (!idOf.TryGetValue(text, out var m))
            {
                m = tokens.Count;
                tokens.Add(text);
                idOf[text] = m;
            }
            merges.Add((tokens[a], tokens[b]));
            pairCount.Remove(pair);
            touched.Clear();

            foreach (var w in pairWords[pair])
                MergeWord(words[w], ref lengths[w], a, b, m, freq[w], w, pairCount, pairWords, touched);
            pairWords.Remove(pair);
            foreach (var p in touched)
                if (pairCount.TryGetValue(p, out var c) && c > 0) heap.Enqueue(p, (c, p));

            if ((merges.Count & 127) == 0) progress?.Report(new BpeTrainingProgress("merge", tokens.Count, options.VocabSize));
        }
        progress?.Report(new BpeTrainingProgress("merge", tokens.Count, options.VocabSize));
        return new TrainedBpe(tokens, merges, totalWords, keys.Length, options.Split);
    }

    // Replaces every (a, b) in one word by m, left to right, and applies the pair-count changes (×freq) as it goes.
    private static void MergeWord(int[] sym, ref int length, int a, int b, int m, long freq, int word,
        Dictionary<long, long> pairCount, Dictionary<long, List<int>> pairWords, HashSet<long> touched)
    {
        var n = length;
        var w = 0;
        var changed = false;
        for (var i = 0; i < n; i++)
        {
            if (i + 1 < n && sym[i] == a && sym[i + 1] == b)
            {
                changed = true;
                if (w > 0)
                {
                    var prev = sym[w - 1];
                    Bump(pairCount, Key(prev, a), -freq);
                    Gain(pairCount, pairWords, touched, Key(prev, m), freq, word);
                }
                if (i + 2 < n)
                {
                    var next = sym[i + 2];
                    Bump(pairCount, Key(b, next), -freq);
                    Gain(pairCount, pairWords, touched, Key(m, next), freq, word);
                }
                sym[w++] = m;
                i++;
            }
            else sym[w++] = sym[i];
        }
        if (changed) length = w;
    }

    private static void Bump(Dictionary<long, long> pairCount, long p, long delta)
    {
        ref var c = ref CollectionsMarshal.GetValueRefOrNullRef(pairCount, p);
        if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref c)) c += delta;
    }

    private static void Gain(Dictionary<long, long> pairCount, Dictionary<long, List<int>> pairWords, HashSet<long> touched, long p, long freq, int word)
    {
        CollectionsMarshal.GetValueRefOrAddDefault(pairCount, p, out _) += freq;
        var list = CollectionsMarshal.GetValueRefOrAddDefault(pairWords, p, out _) ??= [];
        if (list.Count == 0 || list[^1] != word) list.Add(word);
        touched.Add(p);
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    // Max count first; on equal counts the smaller pair (by ids) first.
    private sealed class HeapOrder : IComparer<(long Count, long Pair)>
    {
        public static readonly HeapOrder Instance = new();
        public int Compare((long Count, long Pair) x, (long Count, long Pair) y) =>
            x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Pair.CompareTo(y.Pair);
    }
}
