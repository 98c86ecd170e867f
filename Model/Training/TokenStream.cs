namespace CodeLm.Model.Training;

/// <summary>Random access to tokenized documents (a shard split, or an in-memory list in tests).</summary>
public interface IDocumentSource
{
    int Count { get; }
    int[] GetDocument(int index);
}

public sealed class InMemoryDocuments(IReadOnlyList<int[]> documents) : IDocumentSource
{
    public int Count => documents.Count;
    public int[] GetDocument(int index) => documents[index];
}

/// <summary>Where a <see cref="TokenStream"/> is: epoch, index into that epoch's shuffled order, offset in that document, carried token.</summary>
public sealed record StreamPosition(int Epoch, int Cursor, int Offset, int Carry);

/// <summary>
/// Documents in a seeded shuffled order (reshuffled each epoch), each optionally FIM-transformed and followed by
/// end-of-text, concatenated into one stream and cut into contiguous windows of T+1 tokens (inputs and shifted targets);
/// consecutive windows overlap by one token so no target is skipped. The position is four integers, so a resumed run
/// continues with exactly the same windows.
/// </summary>
public sealed class TokenStream
{
    private readonly IDocumentSource _docs;
    private readonly FimTransform? _fim;
    private readonly int _endOfText;
    private readonly int _seed;
    private readonly bool _shuffle;
    private int[] _order = [];
    private int _orderEpoch = -1;
    private int[]? _current;
    private int _currentCursor = -1;

    public TokenStream(IDocumentSource docs, int endOfText, int seed, FimTransform? fim, bool shuffle = true, StreamPosition? position = null)
    {
        if (docs.Count == 0) throw new InvalidDataException("The token dataset has no documents.");
        (_docs, _endOfText, _seed, _fim, _shuffle) = (docs, endOfText, seed, fim, shuffle);
        Position = position ?? new StreamPosition(0, 0, 0, -1);
    }

    public StreamPosition Position { get; private set; }

    /// <summary>Fills <paramref name="window"/> (length T+1) with the next window.</summary>
    public void Next(Span<int> window)
    {
        var (epoch, cursor, offset, carry) = Position;
        int filled = 0;
        if (carry >= 0) window[filled++] = carry;
        while (filled < window.Length)
        {
            var doc = Document(epoch, cursor);
            int take = Math.Min(doc.Length - offset, window.Length - filled);
            doc.AsSpan(offset, take).CopyTo(window[filled..]);
            filled += take;
            offset += take;
            if (offset == doc.Length)
            {
                offset = 0;
                if (++cursor == _docs.Count) { cursor = 0; epoch++; }
            }
        }
        Position = new StreamPosition(epoch, cursor, offset, window[^1]);
    }

    /// <summary>Fills a [batch, T+1] row-major buffer.</summary>
    public void NextBatch(int[] buffer, int batch, int windowLength)
    {
        for (int b = 0; b < batch; b++) Next(buffer.AsSpan(b * windowLength, windowLength));
    }

    /// <summary>The transformed document (with end-of-text) at <paramref name="cursor"/> of <paramref name="epoch"/>'s order.</summary>
    private int[] Document(int epoch, int cursor)
    {
        if (_orderEpoch != epoch) { _order = Shuffle(epoch); _orderEpoch = epoch; _current = null; }
        if (_current != null && _currentCursor == cursor) return _current;
        int index = _order[cursor];
        var tokens = _docs.GetDocument(index);
        if (_fim != null) tokens = _fim.Apply(tokens, new Random(Mix(_seed, epoch, index)));
        var withEot = new int[tokens.Length + 1];
        tokens.CopyTo(withEot, 0);
        withEot[^1] = _endOfText;
        (_current, _currentCursor) = (withEot, cursor);
        return withEot;
    }

    private int[] Shuffle(int epoch)
    {
        var order = Enumerable.Range(0, _docs.Count).ToArray();
        if (!_shuffle) return order;
        var rng = new Random(Mix(_seed, epoch, -1));
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
