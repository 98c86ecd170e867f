using CodeLm.Model.Hf;
namespace CodeLm.Model.Gguf;

/// <summary>Progress of a conversion: the tensor being written (1-based <see cref="Index"/> of <see cref="Count"/>) and how it is stored.</summary>
public sealed record GgufProgress(string Tensor, int Index, int Count, GgufType StoredAs);

/// <summary>What a conversion wrote.</summary>
public sealed record GgufExport(string Path, string Architecture, string PreTokenizer, int VocabSize, int Tensors, long Bytes);

/// <summary>
/// Converts a Hugging Face model folder (config.json, safetensors weights in F32/F16/BF16, tokenizer.json) into one
/// GGUF file that llama.cpp runs as is, tokenizer included. The model is what CodeLm loads from the folder
/// (<see cref="HfCheckpoint.ReadConfig"/>, <see cref="SafeTensorsIndex"/>); its llama.cpp architecture:
/// <see cref="GgufArchitectures"/>; tokenizers: <see cref="PreTokenizerNames"/>.
/// </summary>
public static class GgufConverter
{
    public static GgufExport Convert(string hfFolder, string outFile, GgufType type, IProgress<GgufProgress>? progress = null)
    {
        var (family, config) = HfCheckpoint.ReadConfig(hfFolder);
        var plan = GgufArchitectures.Plan(new HfModel(hfFolder, family, config, SafeTensorsIndex.Open(hfFolder)));
        var vocab = GgufVocabulary.Read(hfFolder, plan.VocabRows);

        var w = new GgufWriter();
        w.Add("general.architecture", plan.Arch);
        w.Add("general.name", Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(hfFolder))));
        w.Add("general.file_type", GgmlType.FileType(type));
        w.Add("general.quantization_version", 2u); // ggml's GGML_QNT_VERSION: the Q8_0 layout written here
        w.Add($"{plan.Arch}.vocab_size", (uint)vocab.Tokens.Length);
        foreach (var (key, value) in plan.Hyperparameters)
        {
            var k = $"{plan.Arch}.{key}";
            switch (value)
            {
                case uint u: w.Add(k, u); break;
                case float f: w.Add(k, f); break;
                case string s: w.Add(k, s); break;
                default: throw new InvalidOperationException($"hyperparameter {k} has an unexpected type {value.GetType()}");
            }
        }
        vocab.AddTo(w);

        var byName = new Dictionary<string, GgufType>();
        foreach (var t in plan.Tensors)
        {
            var stored = t.StoredAs(type);
            byName[t.Name] = stored;
            w.AddTensor(t.Name, t.Shape, stored, t.Data);
        }
        int index = 0;
        w.Write(outFile, name => progress?.Report(new GgufProgress(name, ++index, plan.Tensors.Count, byName[name])));
        return new GgufExport(Path.GetFullPath(outFile), plan.Arch, vocab.Pre, vocab.Tokens.Length, plan.Tensors.Count, new FileInfo(outFile).Length);
    }
}
