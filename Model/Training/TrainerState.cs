using System.Text.Json;

namespace CodeLm.Model.Training;

/// <summary>trainer_state.json: where a run stands, enough (with the optimizer moments) to continue it exactly.</summary>
public sealed record TrainerState(
    int Step,
    long TokensSeen,
    StreamPosition DataPosition,
    double? BestValLoss,
    int? BestStep,
    string TokenizerHash,
    int Seed,
    int MaxSteps,
    int BatchSize,
    int GradAccumulation,
    int SequenceLength,
    double? ValLoss = null)
{
    /// <summary>Ranks that trained the run; states from before data-parallel training were written by one process.</summary>
    public int WorldSize { get; init; } = 1;

    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainerState Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' is missing: the checkpoint cannot be resumed (was it exported or a 'best' copy?).");
        try { return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"'{path}' is empty."); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is corrupt: {e.Message}"); }
    }
}
