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

    /// <summary>Positions already filled (the same for every sequence in the batch).</summary>
    public int Length { get; private set; }
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
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
        _keys = []; _values = [];
    }
}
