using CodeLm.Model.Hf;
namespace CodeLm.Model.Gguf;

/// <summary>
/// Maps a folder's tensors to llama.cpp names, in the order added. Which tensors exist follows from the config (biases,
/// MLP kind, tied head), not from what the folder happens to hold; and no tensor may be left over, since a weight the
/// layout does not know would otherwise vanish from the export without a word.
/// </summary>
internal sealed class TensorMap(HfModel model)
{
    private readonly List<TensorPlan> _tensors = [];
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>
    /// A tensor. <paramref name="transpose"/>: a 2-D weight stored [in, out] (GPT-2's Conv1D) becomes the [out, in] that
    /// ggml's matmul takes; <paramref name="ropeHeads"/>: Q/K rows interleaved (<see cref="RopePermutation"/>).
    /// </summary>
    public void Add(string hfName, string ggufName, bool transpose = false, int? ropeHeads = null)
    {
        var weights = model.Weights;
        if (!weights.Contains(hfName))
            throw new InvalidDataException($"'{model.Folder}': the weights lack '{hfName}', which a {model.Family} model with this config.json has.");
        _used.Add(hfName);
        var shape = weights[hfName].Shape;
        bool t = transpose && shape.Length == 2;
        _tensors.Add(new TensorPlan(ggufName, t ? [shape[1], shape[0]] : shape, () =>
        {
            var values = weights.ReadFloats(hfName);
            if (ropeHeads is int h) values = RopePermutation.Interleave(values, h, shape.Length == 1 ? 1 : (int)shape[1]);
            return t ? Transpose(values, (int)shape[0], (int)shape[1]) : values;
        }));
    }

    /// <summary>"{hf}.weight", and "{hf}.bias" when <paramref name="bias"/> (the config's flag for this layer).</summary>
    public void AddLayer(string hfPrefix, string ggufPrefix, bool bias, bool transpose = false, int? ropeHeads = null)
    {
        Add(hfPrefix + ".weight", ggufPrefix + ".weight", transpose, ropeHeads);
        if (bias) Add(hfPrefix + ".bias", ggufPrefix + ".bias", ropeHeads: ropeHeads);
    }

    /// <summary>The plan, once every tensor of the folder is mapped or a buffer (<see cref="HfWeightNames.IsIgnorable"/>).</summary>
    public ModelPlan Finish(string arch, IReadOnlyDictionary<string, object> hyperparameters)
    {
        var left = model.Weights.Names.Where(n => !_used.Contains(n) && !HfWeightNames.IsIgnorable(n, model.Config)).Order(StringComparer.Ordinal).ToList();
        if (left.Count > 0)
            throw new InvalidDataException($"'{model.Folder}': the weights do not match a {model.Family} model with this config.json: unexpected [{string.Join(", ", left.Take(5))}].");
        // The vocabulary llama.cpp expects is the embedding's rows; config.json must say the same, as transformers requires.
        var rows = _tensors.First(t => t.Name == "token_embd.weight").Shape[0];
        if (rows != model.Config.VocabSize)
            throw new InvalidDataException($"'{model.Folder}': the token embedding has {rows} rows, config.json's vocab_size is {model.Config.VocabSize}.");
        return new ModelPlan(arch, hyperparameters, model.Config.VocabSize, _tensors);
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
