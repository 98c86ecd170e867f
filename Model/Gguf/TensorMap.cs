namespace CodeLm.Model.Gguf;

/// <summary>
/// Maps a folder's tensors to llama.cpp names, in the order added, and makes sure none is left over: a weight the
/// mapping does not know would otherwise vanish from the export without a word.
/// </summary>
internal sealed class TensorMap(HfFolder folder)
{
    private readonly List<TensorPlan> _tensors = [];
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<Func<string, bool>> _ignored = [];

    /// <summary>
    /// A required tensor. <paramref name="transpose"/>: a 2-D weight stored [in, out] (GPT-2's Conv1D) becomes the
    /// [out, in] that ggml's matmul takes; <paramref name="ropeHeads"/>: Q/K rows interleaved (<see cref="RopePermutation"/>).
    /// </summary>
    public void Add(string hfName, string ggufName, bool transpose = false, int? ropeHeads = null)
    {
        if (!folder.Has(hfName)) throw new InvalidDataException($"'{folder.Path}': the weights lack '{hfName}', which model_type {folder.ModelType} needs.");
        _used.Add(hfName);
        var shape = folder.Shape(hfName);
        bool t = transpose && shape.Length == 2;
        _tensors.Add(new TensorPlan(ggufName, t ? [shape[1], shape[0]] : shape, () =>
        {
            var values = folder.Read(hfName);
            if (ropeHeads is int h) values = RopePermutation.Interleave(values, h, shape.Length == 1 ? 1 : (int)shape[1]);
            return t ? Transpose(values, (int)shape[0], (int)shape[1]) : values;
        }));
    }

    public void AddOptional(string hfName, string ggufName, bool transpose = false)
    {
        if (folder.Has(hfName)) Add(hfName, ggufName, transpose);
    }

    /// <summary>"{hf}.weight" (required) and "{hf}.bias" (when present).</summary>
    public void AddWithBias(string hfPrefix, string ggufPrefix, bool transpose = false, int? ropeHeads = null)
    {
        Add(hfPrefix + ".weight", ggufPrefix + ".weight", transpose, ropeHeads);
        if (folder.Has(hfPrefix + ".bias")) Add(hfPrefix + ".bias", ggufPrefix + ".bias", ropeHeads: ropeHeads);
    }

    /// <summary>Tensors that are buffers, not weights (a cached rope table, a causal mask): left out on purpose.</summary>
    public void Ignore(Func<string, bool> isBuffer) => _ignored.Add(isBuffer);

    public IReadOnlyList<TensorPlan> Finish()
    {
        var left = folder.TensorNames.Where(n => !_used.Contains(n) && !_ignored.Any(i => i(n))).Order(StringComparer.Ordinal).ToList();
        if (left.Count > 0)
            throw new InvalidDataException($"'{folder.Path}': model_type {folder.ModelType} has no GGUF name for {left.Count} tensor(s): {string.Join(", ", left.Take(5))}.");
        return _tensors;
    }

    private static float[] Transpose(float[] v, int rows, int cols)
    {
        var r = new float[v.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                r[(long)j * rows + i] = v[(long)i * cols + j];
        return r;
    }
}
