using CodeLm.Model.Hf;
namespace CodeLm.Model.Gguf;

/// <summary>
/// Which Hugging Face family (<see cref="HfArchitectures"/> reads it) becomes which llama.cpp architecture, written in
/// which tensor layout. Each is checked end to end against llama.cpp (logits and greedy tokens,
/// tests/CodeLm.Model.Tests/GgufTests.cs); a family is added here only with that check.
/// </summary>
public static class GgufArchitectures
{
    private static readonly Dictionary<HfFamily, (string Arch, Func<HfModel, string, ModelPlan> Plan)> Table = new()
    {
        [HfFamily.Llama] = ("llama", LlamaLayout.Plan),
        [HfFamily.Mistral] = ("llama", LlamaLayout.Plan),
        [HfFamily.Qwen2] = ("qwen2", LlamaLayout.Plan),
        [HfFamily.Starcoder2] = ("starcoder2", LlamaLayout.Plan),
        [HfFamily.Gpt2] = ("gpt2", GptLayout.Plan),
        [HfFamily.GptBigCode] = ("starcoder", GptLayout.Plan),
    };

    /// <summary>llama.cpp's architecture name for a family, or null when the converter has none.</summary>
    public static string? ArchitectureOf(HfFamily family) => Table.TryGetValue(family, out var t) ? t.Arch : null;

    internal static ModelPlan Plan(HfModel model) => Table.TryGetValue(model.Family, out var t)
        ? t.Plan(model, t.Arch)
        : throw UnsupportedModelException.ForGguf(model.Folder, ModelPart.ModelType, model.Family.ToString(), [.. Table.Keys.Select(f => f.ToString())]);
}
