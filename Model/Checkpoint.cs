using CodeLm.Common;
using CodeLm.Tokenizer;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// A checkpoint directory: config.json, model.safetensors, tokenizer/ (a copy), and for resuming
/// trainer_state.json + optimizer.safetensors. A directory is built beside its final name and renamed into place,
/// so a crash mid-write leaves the previous checkpoint as it was.
/// </summary>
public static partial class Checkpoint
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string TokenizerDirName = "tokenizer";
    public const string TrainerStateFile = "trainer_state.json";
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>
    /// The checkpoint directory every command reads for <paramref name="dir"/>: the directory itself when it holds a
    /// config.json, else, for a training run directory, its best/ and failing that its latest step checkpoint.
    /// </summary>
    public static string Resolve(string dir)
    {
        if (File.Exists(Path.Combine(dir, ConfigFile)) || !Directory.Exists(dir)) return dir;
        var best = Training.RunCheckpoints.BestPath(dir);
        if (File.Exists(Path.Combine(best, ConfigFile))) return best;
        return Training.RunCheckpoints.Latest(dir) ?? dir;
    }

    /// <summary>
    /// Writes <paramref name="dir"/> atomically: weights (as float32), config, a copy of <paramref name="tokenizerDir"/>
    /// (when given) and whatever <paramref name="writeExtras"/> puts into the staging directory.
    /// </summary>
    public static void Save(string dir, Gpt model, string? tokenizerDir, Action<string>? writeExtras = null) =>
        StagedDirectory.Write(dir, stage =>
        {
            File.WriteAllText(Path.Combine(stage, ConfigFile), model.Config.ToJson());
            SaveWeights(Path.Combine(stage, WeightsFile), model);
            if (tokenizerDir != null) CopyTokenizer(tokenizerDir, Path.Combine(stage, TokenizerDirName));
            writeExtras?.Invoke(stage);
        });

    /// <summary>Weights as float32 safetensors under the model's own parameter names (wte.weight, h.0.attn.c_attn.weight, ...).</summary>
    public static void SaveWeights(string path, Gpt model)
    {
        using var scope = NewDisposeScope();
        SafeTensors.Save(path, model.named_parameters().Select(p => (p.name, p.parameter.detach().to(ScalarType.Float32))),
            new Dictionary<string, string> { ["format"] = "pt", ["model_type"] = GptConfig.ModelType });
    }

    /// <summary>Copies weights from a safetensors file into <paramref name="model"/>; every name and shape must match.</summary>
    public static void LoadWeights(Gpt model, string path) =>
        CopyNamed(path, model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList(), "the model");

    /// <summary>
    /// Copies each tensor of a safetensors file into the tensor of the same name in <paramref name="into"/>; the names
    /// and shapes must be exactly those, else nothing is read and the error says what <paramref name="what"/> lacks.
    /// </summary>
    internal static void CopyNamed(string path, IReadOnlyList<(string Name, Tensor Into)> into, string what)
    {
        var (tensors, _) = SafeTensors.Load(path);
        try
        {
            using var _ = no_grad();
            var missing = into.Select(p => p.Name).Where(n => !tensors.ContainsKey(n)).ToList();
            var extra = tensors.Keys.Except(into.Select(p => p.Name)).ToList();
            if (missing.Count > 0 || extra.Count > 0)
                throw new InvalidDataException($"'{path}' does not match {what}: missing [{string.Join(", ", missing.Take(5))}], unexpected [{string.Join(", ", extra.Take(5))}].");
            foreach (var (name, p) in into)
            {
                var t = tensors[name];
                if (!t.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"'{path}': tensor '{name}' has shape [{string.Join(",", t.shape)}], {what} expects [{string.Join(",", p.shape)}].");
                p.copy_(t);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>The model's shape, from a CodeLm checkpoint or a Hugging Face model folder.</summary>
    public static GptConfig LoadConfig(string dir)
    {
        if (Hf.HfCheckpoint.IsHfFolder(dir)) return Hf.HfCheckpoint.ReadConfig(dir).Config;
        var path = Path.Combine(dir, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"'{dir}' is not a checkpoint: {ConfigFile} is missing.");
        return GptConfig.FromJson(File.ReadAllText(path));
    }

    /// <summary>
    /// Builds the model from config.json and model.safetensors (a CodeLm checkpoint or a Hugging Face model folder), in
    /// eval mode on <paramref name="device"/>. A LoRA adapter (a fine-tuning run's checkpoint) loads as its base model
    /// with the adapter folded in.
    /// </summary>
    /// <param name="linearWeights">For a Hugging Face folder, the type its linear layers keep (see <see cref="Gpt"/>).</param>
    public static (Gpt Model, GptConfig Config) LoadModel(string dir, Device device, ScalarType dtype = ScalarType.Float32, Action<string>? progress = null,
        ScalarType linearWeights = ScalarType.Float32)
    {
        Native.TorchNativeLoader.EnsureLoaded();
        if (Lora.PeftAdapter.IsAdapter(dir))
        {
            var adapted = Lora.PeftAdapter.LoadMerged(dir, device, progress);
            if (dtype != ScalarType.Float32) adapted.Model.to(dtype);
            return adapted;
        }
        if (Hf.HfCheckpoint.IsHfFolder(dir))
        {
            var hf = Hf.HfCheckpoint.LoadModel(dir, device, progress, linearWeights);
            if (dtype != ScalarType.Float32) hf.to(dtype);
            return (hf, hf.Config);
        }
        var config = LoadConfig(dir);
        var model = new Gpt(config, initialize: false);
        LoadWeights(model, Path.Combine(dir, WeightsFile));
        model.to(device);
        if (dtype != ScalarType.Float32) model.to(dtype);
        model.eval();
        return (model, config);
    }

    /// <summary>A tokenizer directory, or just the tokenizer files of a Hugging Face model folder (never its weights).</summary>
    internal static void CopyTokenizer(string from, string to)
    {
        if (!Hf.HfCheckpoint.IsHfFolder(from)) { CopyDirectory(from, to); return; }
        Directory.CreateDirectory(to);
        foreach (var f in Hf.HfCheckpoint.TokenizerFiles)
            if (File.Exists(Path.Combine(from, f))) File.Copy(Path.Combine(from, f), Path.Combine(to, f), overwrite: true);
    }

    internal static void CopyDirectory(string from, string to)
    {
        if (!Directory.Exists(from)) throw new DirectoryNotFoundException($"Tokenizer directory '{from}' does not exist.");
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (var sub in Directory.GetDirectories(from)) CopyDirectory(sub, Path.Combine(to, Path.GetFileName(sub)));
    }
}
