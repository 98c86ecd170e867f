namespace CodeLm.Model.Training;

/// <summary>Random access to tokenized documents (a shard split, or an in-memory list in tests).</summary>
public interface IDocumentSource
{
    int Count { get; }
    int[] GetDocument(int index);
    /// <summary>Tokens in document <paramref name="index"/>; sources with an index answer without reading it.</summary>
    int Length(int index) => GetDocument(index).Length;
}

public sealed class InMemoryDocuments(IReadOnlyList<int[]> documents) : IDocumentSource
{
    public int Count => documents.Count;
    public int[] GetDocument(int index) => documents[index];
}

/// <summary>
/// Where a <see cref="TokenStream"/> is: the epoch and how many of its windows were served. Offset and Carry are kept
/// for the layout of trainer_state.json and are always 0 and -1.
/// </summary>
public sealed record StreamPosition(int Epoch, int Cursor, int Offset = 0, int Carry = -1);

/// <summary>
/// Training windows in the order Megatron-LM's GPT dataset serves them: each epoch lays the documents (reshuffled per
/// epoch, each optionally FIM-transformed, after the begin-of-text id of families that have one, and followed by
/// end-of-text; documents come without these framing ids) end to end, cuts that stream into windows of T+1
/// tokens with a stride of T from a random offset (consecutive windows share a token, so no target is skipped; the last
/// wraps around to the start), and serves the windows in a seeded random order. An epoch still covers every token once,
/// while the rows of a batch, and consecutive batches,
/// come from unrelated places in the corpus: serving the windows in stream order made a batch a few whole documents and
/// cost 4 % in validation loss against nanoGPT's random windows at equal steps (docs/benchmarks.md, "Sample
/// efficiency"). The position is two integers, so a resumed run continues with exactly the same windows.
/// </summary>
public sealed class TokenStream
{
    private readonly IDocumentSource _docs;
    private readonly FimTransform? _fim;
    private readonly int _endOfText;
    private readonly int? _beginOfText;
    private readonly int _seed;
    private readonly bool _shuffle;
    private int _stride;
    private int _epoch = -1;
    private int[] _order = [];     // documents in this epoch's order
    private long[] _starts = [];   // where each of them starts in the epoch's stream (untransformed lengths)
    private int[] _windows = [];   // the epoch's window numbers in serving order
    private long _shift;           // where the epoch's window grid starts, so documents meet windows at varied offsets
    private readonly Dictionary<int, int[]> _recent = new();

    public TokenStream(IDocumentSource docs, int endOfText, int seed, FimTransform? fim, bool shuffle = true, StreamPosition? position = null,
        int? beginOfText = null)
    {
        if (docs.Count == 0) throw new InvalidDataException("The token dataset has no documents.");
        (_docs, _endOfText, _beginOfText, _seed, _fim, _shuffle) = (docs, endOfText, beginOfText, seed, fim, shuffle);
        Position = position is null ? new StreamPosition(0, 0) : new StreamPosition(position.Epoch, position.Cursor);
    }

    public StreamPosition Position { get; private set; }

    /// <summary>Fills <paramref name="window"/> (length T+1) with the next window; every call must use the same length.</summary>
    public void Next(Span<int> window)
    {
        var (epoch, cursor) = Advance(window.Length);
        Fill(window, (_shift + (long)_windows[cursor] * _stride) % _starts[^1]);
    }

    /// <summary>Passes over <paramref name="count"/> windows of <paramref name="windowLength"/> tokens unread: the ones other ranks read.</summary>
    public void Skip(int count, int windowLength)
    {
        for (int i = 0; i < count; i++) Advance(windowLength);
    }

    /// <summary>The window to serve (its epoch, prepared, and its number in that epoch's order), moving the position past it.</summary>
    private (int Epoch, int Cursor) Advance(int windowLength)
    {
        if (windowLength < 2) throw new ArgumentException("A window needs at least two tokens (an input and its target).");
        if (_stride == 0) _stride = windowLength - 1;
        else if (_stride != windowLength - 1) throw new ArgumentException($"Windows of {windowLength} tokens after windows of {_stride + 1}: one stream serves one length.");
        var (epoch, cursor, _, _) = Position;
        Prepare(epoch);
        Position = cursor + 1 == _windows.Length ? new StreamPosition(epoch + 1, 0) : new StreamPosition(epoch, cursor + 1);
        return (epoch, cursor);
    }

    /// <summary>Fills a [batch, T+1] row-major buffer.</summary>
    public void NextBatch(int[] buffer, int batch, int windowLength)
    {
        for (int b = 0; b < batch; b++) Next(buffer.AsSpan(b * windowLength, windowLength));
    }

    /// <summary>
    /// Rank <paramref name="rank"/>'s rows of the next global batch of <paramref name="batch"/> × <paramref name="ranks"/>
    /// windows: rank r reads rows [r·batch, (r+1)·batch), so the ranks together read what one process reading the whole
    /// global batch would, and every rank's position moves past all of it.
    /// </summary>
    public void NextSlice(int[] buffer, int batch, int windowLength, int rank, int ranks)
    {
        Skip(rank * batch, windowLength);
        NextBatch(buffer, batch, windowLength);
        Skip((ranks - 1 - rank) * batch, windowLength);
    }

    private void Prepare(int epoch)
    {
        if (_epoch == epoch) return;
        _order = Permutation(_docs.Count, Mix(_seed, epoch, -1), _shuffle);
        _starts = new long[_order.Length + 1];
        int framing = _beginOfText is null ? 1 : 2;
        for (int i = 0; i < _order.Length; i++) _starts[i + 1] = _starts[i] + _docs.Length(_order[i]) + framing;
        // Enough windows to cover every target; the last one runs past the end and wraps around to the epoch's start,
        // which on a tiny corpus is most of a window (dropping it would drop a document's end every epoch).
        int count = (int)Math.Min(int.MaxValue, Math.Max(1, (_starts[^1] - 1 + _stride - 1) / _stride));
        _windows = Permutation(count, Mix(_seed, epoch, -2), _shuffle);
        _shift = _shuffle ? new Random(Mix(_seed, epoch, -3)).Next(_stride) : 0;
        _recent.Clear();
        _epoch = epoch;
    }

    /// <summary>Copies the stream from <paramref name="start"/> on. A FIM-transformed document is a few tokens longer or
    /// shorter than its stored length; a window starting inside it starts at the same offset, clamped.</summary>
    private void Fill(Span<int> window, long start)
    {
        int slot = Array.BinarySearch(_starts, start);
        if (slot < 0) slot = ~slot - 1;
        int offset = (int)(start - _starts[slot]);
        int filled = 0;
        while (filled < window.Length)
        {
            var doc = Document(slot);
            offset = Math.Min(offset, doc.Length - 1);
            int take = Math.Min(doc.Length - offset, window.Length - filled);
            doc.AsSpan(offset, take).CopyTo(window[filled..]);
            filled += take;
            offset = 0;
            slot = (slot + 1) % _order.Length;
        }
    }

    /// <summary>The transformed document (framed: [begin-of-text] document end-of-text) at <paramref name="slot"/> of this epoch's order.</summary>
    private int[] Document(int slot)
    {
        int index = _order[slot];
        if (_recent.TryGetValue(index, out var cached)) return cached;
        var tokens = _docs.GetDocument(index);
        if (_fim != null) tokens = _fim.Apply(tokens, new Random(Mix(_seed, _epoch, index)));
        int[] framed = _beginOfText is { } bos ? [bos, .. tokens, _endOfText] : [.. tokens, _endOfText];
        // A window reads one or two documents, and a document is read by several windows at random times: keep a few.
        if (_recent.Count >= 256) _recent.Clear();
        _recent[index] = framed;
        return framed;
    }

    private static int[] Permutation(int n, int seed, bool shuffle)
    {
        var order = Enumerable.Range(0, n).ToArray();
        if (!shuffle) return order;
        var rng = new Random(seed);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static int Mix(int seed, int epoch, int index)
    {
        ulong x = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)epoch * 0xC2B2AE3D27D4EB4FUL ^ (ulong)(uint)index * 0x165667B19E3779F9UL;
        x ^= x >> 31; x *= 0xBF58476D1CE4E5B9UL; x ^= x >> 29;
        return (int)(x & 0x7FFFFFFF);
    }
}
