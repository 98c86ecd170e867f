using System.Globalization;
using System.Text.RegularExpressions;
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

    /// <summary>Test hook: runs after the temp directory is complete and before it is renamed into place.</summary>
    internal static Action<string>? BeforeCommit;

    /// <summary>
    /// Writes <paramref name="dir"/> atomically: weights (as float32), config, a copy of <paramref name="tokenizerDir"/>
    /// (when given) and whatever <paramref name="writeExtras"/> puts into the staging directory.
    /// </summary>
    public static void Save(string dir, Gpt model, string? tokenizerDir, Action<string>? writeExtras = null)
    {
        dir = Path.GetFullPath(dir.TrimEnd('/', '\\'));
        var parent = Path.GetDirectoryName(dir)!;
        Directory.CreateDirectory(parent);
        var stage = Path.Combine(parent, $".{Path.GetFileName(dir)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(stage);
        try
        {
            File.WriteAllText(Path.Combine(stage, ConfigFile), model.Config.ToJson());
            SaveWeights(Path.Combine(stage, WeightsFile), model);
            if (tokenizerDir != null) CopyDirectory(tokenizerDir, Path.Combine(stage, TokenizerDirName));
            writeExtras?.Invoke(stage);
            BeforeCommit?.Invoke(stage);
            Commit(stage, dir);
        }
        finally
        {
            if (Directory.Exists(stage)) Directory.Delete(stage, recursive: true);
        }
    }

    /// <summary>
    /// Cleans up after a writer killed in <see cref="Save"/> within <paramref name="parent"/>: staging directories of
    /// processes that are gone are deleted, and a checkpoint caught between the two moves of <see cref="Commit"/> (only
    /// its `.old` copy left) is put back. Temp files of <see cref="AtomicFile"/> go too. Returns what it did, for the log.
    /// </summary>
    public static IReadOnlyList<string> RecoverInterrupted(string parent)
    {
        var done = new List<string>();
        if (!Directory.Exists(parent)) return done;
        foreach (var dir in Directory.GetDirectories(parent, ".*"))
        {
            var name = Path.GetFileName(dir);
            var staging = StagingName.Match(name);
            if (staging.Success && WriterGone(staging.Groups[2].Value))
            {
                Directory.Delete(dir, recursive: true);
                done.Add($"removed the unfinished {staging.Groups[1].Value} of a stopped run");
                continue;
            }
            var old = OldName.Match(name);
            if (!old.Success || !WriterGone(old.Groups[2].Value)) continue;
            var target = Path.Combine(parent, old.Groups[1].Value);
            if (Directory.Exists(target)) { Directory.Delete(dir, recursive: true); continue; }
            Directory.Move(dir, target);
            done.Add($"restored {old.Groups[1].Value} (a run stopped while replacing it)");
        }
        if (AtomicFile.RemoveStale(parent) is > 0 and var files) done.Add($"removed {files} temp file(s) of a stopped run");
        return done;
    }

    private static readonly Regex StagingName = new(@"^\.(.+)\.tmp-([0-9]+)-[0-9a-f]{32}$", RegexOptions.CultureInvariant);
    private static readonly Regex OldName = new(@"^\.(.+)\.old-([0-9]+)-[0-9a-f]{32}$", RegexOptions.CultureInvariant);

    // Names carry their writer's process id; one that does not parse is left alone.
    private static bool WriterGone(string pid) =>
        int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && !AtomicFile.ProcessIsAlive(id);

    /// <summary>Moves a finished staging directory onto <paramref name="dir"/>, replacing any previous one.</summary>
    internal static void Commit(string stage, string dir)
    {
        if (!Directory.Exists(dir)) { Directory.Move(stage, dir); return; }
        var old = Path.Combine(Path.GetDirectoryName(dir)!, $".{Path.GetFileName(dir)}.old-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.Move(dir, old);
        Directory.Move(stage, dir);
        Directory.Delete(old, recursive: true);
    }

    /// <summary>Weights as float32 safetensors under the model's own parameter names (wte.weight, h.0.attn.c_attn.weight, ...).</summary>
    public static void SaveWeights(string path, Gpt model)
    {
        using var scope = NewDisposeScope();
        SafeTensors.Save(path, model.named_parameters().Select(p => (p.name, p.parameter.detach().to(ScalarType.Float32))),
            new Dictionary<string, string> { ["format"] = "pt", ["model_type"] = GptConfig.ModelType });
    }

    /// <summary>Copies weights from a safetensors file into <paramref name="model"/>; every name and shape must match.</summary>
    public static void LoadWeights(Gpt model, string path)
    {
        var (tensors, _) = SafeTensors.Load(path);
        try
        {
            using var _ = no_grad();
            var expected = model.named_parameters().ToList();
            var missing = expected.Select(p => p.name).Where(n => !tensors.ContainsKey(n)).ToList();
            var extra = tensors.Keys.Except(expected.Select(p => p.name)).ToList();
            if (missing.Count > 0 || extra.Count > 0)
                throw new InvalidDataException($"'{path}' does not match the model: missing [{string.Join(", ", missing.Take(5))}], unexpected [{string.Join(", ", extra.Take(5))}].");
            foreach (var (name, p) in expected)
            {
                var t = tensors[name];
                if (!t.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"'{path}': tensor '{name}' has shape [{string.Join(",", t.shape)}], the model expects [{string.Join(",", p.shape)}].");
                p.copy_(t);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    public static GptConfig LoadConfig(string dir)
    {
        var path = Path.Combine(dir, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"'{dir}' is not a checkpoint: {ConfigFile} is missing.");
        return GptConfig.FromJson(File.ReadAllText(path));
    }

    /// <summary>Builds the model from config.json and model.safetensors, in eval mode on <paramref name="device"/>.</summary>
    public static (Gpt Model, GptConfig Config) LoadModel(string dir, Device device, ScalarType dtype = ScalarType.Float32)
    {
        Native.TorchNativeLoader.EnsureLoaded();
        var config = LoadConfig(dir);
        var model = new Gpt(config);
        LoadWeights(model, Path.Combine(dir, WeightsFile));
        model.to(device);
        if (dtype != ScalarType.Float32) model.to(dtype);
        model.eval();
        return (model, config);
    }

    internal static void CopyDirectory(string from, string to)
    {
        if (!Directory.Exists(from)) throw new DirectoryNotFoundException($"Tokenizer directory '{from}' does not exist.");
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (var sub in Directory.GetDirectories(from)) CopyDirectory(sub, Path.Combine(to, Path.GetFileName(sub)));
    }
}
