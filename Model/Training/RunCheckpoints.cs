using System.Globalization;

namespace CodeLm.Model.Training;

/// <summary>
/// The checkpoints of a run directory: <c>checkpoints/step-00001000/</c> (the last K are kept) and <c>best/</c>
/// (lowest validation loss so far). Half-written directories (dot-prefixed staging names) are never picked up.
/// </summary>
public static class RunCheckpoints
{
    public const string Folder = "checkpoints", Best = "best", Prefix = "step-";

    public static string PathFor(string runDir, int step) => Path.Combine(runDir, Folder, $"{Prefix}{step:D8}");

    public static string BestPath(string runDir) => Path.Combine(runDir, Best);

    /// <summary>Resumable checkpoints (complete ones only), oldest first.</summary>
    public static IReadOnlyList<(int Step, string Path)> List(string runDir)
    {
        var dir = Path.Combine(runDir, Folder);
        if (!Directory.Exists(dir)) return [];
        return Directory.GetDirectories(dir)
            .Select(d => (Name: Path.GetFileName(d), Path: d))
            .Where(d => d.Name.StartsWith(Prefix, StringComparison.Ordinal) && IsResumable(d.Path))
            .Select(d => (Step: int.TryParse(d.Name[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : -1, d.Path))
            .Where(d => d.Step >= 0)
            .OrderBy(d => d.Step)
            .ToList();
    }

    public static string? Latest(string runDir) => List(runDir) is { Count: > 0 } l ? l[^1].Path : null;

    // A LoRA run's checkpoints hold its adapter where others hold the model's weights.
    public static bool IsResumable(string dir) =>
        new[] { Checkpoint.ConfigFile, Checkpoint.TrainerStateFile, Checkpoint.OptimizerFile }.All(f => File.Exists(Path.Combine(dir, f)))
        && (File.Exists(Path.Combine(dir, Checkpoint.WeightsFile)) || File.Exists(Path.Combine(dir, Lora.PeftAdapter.WeightsFile)));

    /// <summary>Deletes all but the newest <paramref name="keep"/> step checkpoints.</summary>
    public static void Prune(string runDir, int keep)
    {
        var all = List(runDir);
        foreach (var (_, path) in all.Take(Math.Max(0, all.Count - keep))) Directory.Delete(path, recursive: true);
    }
}
