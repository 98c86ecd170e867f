using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Preallocated keys and values for incremental decoding: per layer [B, H, capacity, D], filled left to right.
/// <see cref="Gpt"/> writes each forward's new positions at <see cref="Length"/> and then advances it.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly GptConfig _config;
    private Tensor[] _keys;
    private Tensor[] _values;

    public KvCache(GptConfig config, int batch, int capacity, Device device, ScalarType dtype = ScalarType.Float32)
    {
        _config = config;
        if (capacity > config.ContextLength)
            throw new ArgumentException($"KV cache capacity {capacity} exceeds the model context {config.ContextLength}.");
        Capacity = capacity;
        Batch = batch;
        _keys = new Tensor[config.Layers];
        _values = new Tensor[config.Layers];
        // Uninitialised: only positions below Length are ever read, and untouched pages cost no memory. A generator's cache
        // spans the whole context (32,768 positions for Qwen2.5-Coder: 1.8 GB at 1.5B), which zeros would fault in at once.
        for (int i = 0; i < config.Layers; i++)
        {
            _keys[i] = empty([batch, config.KvHeadCount, capacity, config.HeadDim], dtype, device).DetachFromDisposeScope();
            _values[i] = empty([batch, config.KvHeadCount, capacity, config.HeadDim], dtype, device).DetachFromDisposeScope();
        }
    }

    /// <summary>Slots filled (the same for every row of the batch; with <see cref="Padding"/>, row i's first ones are empty).</summary>
    public int Length { get; private set; }

    /// <summary>
    /// Per row, the empty slots before its first position (int64 [B]), when the rows hold prompts of different lengths
    /// right-aligned (<see cref="Stack"/>); null when every row starts at slot 0. Row i's token in slot s sits at position
    /// s − Padding[i], and no query attends to its empty slots.
    /// </summary>
    public Tensor? Padding { get; private set; }

    /// <summary>Slots from the first that some row fills: what <see cref="Join"/> keeps of this cache.</summary>
    public int TrimmedLength
    {
        get
        {
            if (Padding is not { } p) return Length;
            using var least = p.min();
            return Length - (int)least.item<long>();
        }
    }
    public int Capacity { get; }
    public int Batch { get; private set; }

    /// <summary>Stores this step's keys/values [B, H, T, D] for <paramref name="layer"/> and returns views of everything so far.</summary>
    internal (Tensor keys, Tensor values) Append(int layer, Tensor k, Tensor v)
    {
        int t = (int)k.shape[2];
        if (Length + t > Capacity)
            throw new InvalidOperationException($"KV cache is full: {Length} + {t} positions exceed its capacity {Capacity}.");
        using (no_grad())
        {
            _keys[layer].narrow(2, Length, t).copy_(k);
            _values[layer].narrow(2, Length, t).copy_(v);
        }
        return (_keys[layer].narrow(2, 0, Length + t), _values[layer].narrow(2, 0, Length + t));
    }

    internal void Advance(int positions) => Length += positions;

    /// <summary>Layer <paramref name="layer"/>'s whole key or value buffer [B, KV, capacity, D], for code that writes it in place.</summary>
    internal Tensor KeysOf(int layer) => _keys[layer];
    internal Tensor ValuesOf(int layer) => _values[layer];

    /// <summary>Rewinds to <paramref name="length"/> positions (later ones are overwritten by the next forward).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    /// <summary>
    /// Keeps (and reorders or repeats) batch rows: rows = [0,0,0] turns a one-prompt prefill into three samples;
    /// rows = [0,2] drops finished sequence 1.
    /// </summary>
    public void SelectRows(Tensor rows)
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            var k = _keys[i].index_select(0, rows).DetachFromDisposeScope();
            var v = _values[i].index_select(0, rows).DetachFromDisposeScope();
            _keys[i].Dispose(); _values[i].Dispose();
            _keys[i] = k; _values[i] = v;
        }
        Batch = (int)rows.shape[0];
        if (Padding is { } padding)
        {
            Padding = padding.index_select(0, rows).DetachFromDisposeScope();
            padding.Dispose();
        }
    }

    /// <summary>
    /// One cache of the one-row caches <paramref name="rows"/> (prompts of different lengths), each right-aligned so that
    /// all end at the same slot and the next token of every row goes to the same slot; the empty slots before a shorter
    /// prompt are its <see cref="Padding"/>. The positions are the rows' own: keys keep the rotation they were computed
    /// with, and the model places each row's new tokens after its own prompt.
    /// </summary>
    public static KvCache Stack(IReadOnlyList<KvCache> rows, int capacity) => Join(null, rows, capacity);

    /// <summary>
    /// <paramref name="running"/>'s rows followed by the one-row caches <paramref name="rows"/>, right-aligned as in
    /// <see cref="Stack"/>: requests join a batch that is decoding. The slots every running row leaves empty are dropped
    /// first, so a batch that keeps taking newcomers does not grow by the padding of rows that have left.
    /// The result's <see cref="Length"/> is the longest of the running rows (so trimmed, <see cref="TrimmedLength"/>) and the newcomers.
    /// </summary>
    public static KvCache Join(KvCache? running, IReadOnlyList<KvCache> rows, int capacity)
    {
        if ((running == null && rows.Count == 0) || rows.Any(r => r.Batch != 1)) throw new ArgumentException("Join takes one-row caches to add.", nameof(rows));
        int kept = running?.TrimmedLength ?? 0, trim = running == null ? 0 : running.Length - kept;
        int length = Math.Max(kept, rows.Count == 0 ? 0 : rows.Max(r => r.Length));
        if (capacity < length) throw new ArgumentOutOfRangeException(nameof(capacity), $"Capacity {capacity} is below the {length} slots needed.");
        // The copies go through views of the old caches; left to the finalizer, they would keep those caches' memory alive.
        using var scope = NewDisposeScope();
        var first = running ?? rows[0];
        var device = first._keys[0].device;
        int before = running?.Batch ?? 0;
        var joined = new KvCache(first._config, before + rows.Count, capacity, device, first._keys[0].dtype);
        using (no_grad())
            for (int layer = 0; layer < joined._keys.Length; layer++)
            {
                if (running != null)
                {
                    joined._keys[layer].narrow(0, 0, before).narrow(2, length - kept, kept).copy_(running._keys[layer].narrow(2, trim, kept));
                    joined._values[layer].narrow(0, 0, before).narrow(2, length - kept, kept).copy_(running._values[layer].narrow(2, trim, kept));
                }
                for (int i = 0; i < rows.Count; i++)
                {
                    joined._keys[layer][before + i].narrow(1, length - rows[i].Length, rows[i].Length).copy_(rows[i]._keys[layer][0].narrow(1, 0, rows[i].Length));
                    joined._values[layer][before + i].narrow(1, length - rows[i].Length, rows[i].Length).copy_(rows[i]._values[layer][0].narrow(1, 0, rows[i].Length));
                }
            }
        joined.Length = length;
        var pads = new long[before + rows.Count];
        if (running != null)
        {
            using var padding = running.Padding is { } rp ? rp.cpu() : zeros(before, ScalarType.Int64);
            var old = padding.data<long>().ToArray();
            for (int i = 0; i < before; i++) pads[i] = old[i] - trim + (length - kept);
        }
        for (int i = 0; i < rows.Count; i++) pads[before + i] = length - rows[i].Length;
        // Rows that all start at slot 0 need no padding; a lone row then keeps the one-sequence decoding step.
        joined.Padding = pads.All(x => x == 0) ? null : tensor(pads, device: device).DetachFromDisposeScope();
        return joined;
    }

    /// <summary>
    /// For a padded cache: each row's position for the next token (int64 [B]), and which slots each row's new query may
    /// see (bool [B, 1, 1, Length + 1]: its own positions and the new one). Null for a cache without padding.
    /// </summary>
    internal (Tensor Positions, Tensor Visible)? NextStep()
    {
        if (Padding is not { } padding) return null;
        var positions = (Length - padding).DetachFromDisposeScope();
        using var slots = arange(Length + 1, dtype: ScalarType.Int64, device: padding.device).unsqueeze(0);
        var visible = slots.ge(padding.unsqueeze(1)).view(Batch, 1, 1, Length + 1).DetachFromDisposeScope();
        return (positions, visible);
    }

    /// <summary>
    /// A new cache of <paramref name="batch"/> rows that each hold this one-row cache's positions, with room for
    /// <paramref name="capacity"/>: n samples of one prompt share its prefill, and this cache stays as it is.
    /// </summary>
    public KvCache Repeat(int batch, int capacity)
    {
        if (Batch != 1) throw new InvalidOperationException($"Only a one-row cache can be repeated; this one has {Batch} rows.");
        if (capacity < Length) throw new ArgumentOutOfRangeException(nameof(capacity), $"Capacity {capacity} is below the {Length} positions held.");
        var copy = new KvCache(_config, batch, capacity, _keys[0].device, _keys[0].dtype);
        using (no_grad())
            for (int i = 0; i < _keys.Length; i++)
            {
                copy._keys[i].narrow(2, 0, Length).copy_(_keys[i].narrow(2, 0, Length));
                copy._values[i].narrow(2, 0, Length).copy_(_values[i].narrow(2, 0, Length));
            }
        copy.Length = Length;
        return copy;
    }

    public void Dispose()
    {
        Padding?.Dispose();
        Padding = null;
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
        _keys = []; _values = [];
    }
}
