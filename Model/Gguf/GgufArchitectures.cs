using CodeLm.Model.Hf;
namespace CodeLm.Model.Gguf;

/// <summary>
/// Which Hugging Face model_type becomes which llama.cpp architecture. Each is checked end to end against llama.cpp
/// (logits and greedy tokens, tests/CodeLm.Model.Tests/GgufTests.cs); a model_type is added here only with that check.
/// </summary>
public static class GgufArchitectures
{
    private static readonly (string ModelType, string Arch, Func<HfFolder, string, ModelPlan> Plan)[] Table =
    [
        ("llama", "llama", LlamaLayout.Plan),
        ("mistral", "llama", LlamaLayout.Plan),
        ("qwen2", "qwen2", LlamaLayout.Plan),
        ("starcoder2", "starcoder2", LlamaLayout.Plan),
        ("gpt2", "gpt2", GptLayout.Plan),
        ("gpt_bigcode", "starcoder", GptLayout.Plan),
    ];

    /// <summary>The model_type values the converter takes.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = Table.Select(t => t.ModelType).ToArray();

    /// <summary>llama.cpp's architecture name for a model_type, or null.</summary>
    public static string? ArchitectureOf(string modelType) => Table.FirstOrDefault(t => t.ModelType == modelType).Arch;

    internal static ModelPlan Plan(HfFolder folder)
    {
        foreach (var (modelType, arch, plan) in Table)
            if (modelType == folder.ModelType) return plan(folder, arch);
        throw UnsupportedModelException.ForGguf(folder.Path, ModelPart.ModelType, folder.ModelType, SupportedModelTypes);
    }
}
