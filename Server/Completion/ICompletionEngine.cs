using CodeLm.Tokenizer;
using CodeLm.Common.Completion;
using CodeLm.Common;
using CodeLm.Model.Generation;

namespace CodeLm.Server.Completion;

/// <summary>
/// A fill-in-the-middle prompt (laid out in the model's FIM format by the engine): <see cref="Prefix"/> already starts with
/// the language tag line. <see cref="Context"/>: parts of other files of the repository, best first, which the engine
/// packs under <see cref="EngineOptions.RepoContextTokens"/> before the rest; <see cref="Path"/> and <see cref="Repo"/>
/// name this file and the repository in that layout.
/// </summary>
public sealed record CompletionPrompt(string Prefix, string Suffix, string Language)
{
    public IReadOnlyList<ContextFile> Context { get; init; } = [];
    public string Path { get; init; } = "";
    public string Repo { get; init; } = "";

    /// <summary>The whole text around the cursor, after the language's tag line; <see cref="ICompletionEngine.Fit"/> cuts it.</summary>
    public static CompletionPrompt Around(CursorContext cursor, string language) => new(LanguageTag.Prefix(language) + cursor.Prefix, cursor.Suffix, language);
}

/// <summary>
/// <paramref name="Fim"/>: the order the engine lays the prompt out in (<see cref="FimLayout"/>). <paramref name="ContextBudget"/>:
/// prompt tokens at most (0: what the context leaves), of which <paramref name="PrefixShare"/> goes to the text before the cursor.
/// </summary>
public sealed record EngineOptions(int MaxNewTokens, float Temperature, FimFormat Fim = FimFormat.Psm, int ContextBudget = 0, double PrefixShare = 0.75)
{
    /// <summary>Nucleus sampling for the extra candidates: drawn at a temperature, they skip the long tail of unlikely tokens.</summary>
    public float TopP { get; init; } = 1;

    /// <summary>Most tokens of repository context before the prompt (0: none); the engine caps it at a quarter of the model's context.</summary>
    public int RepoContextTokens { get; init; }

    /// <summary>The context budget an engine with <paramref name="contextLength"/> grants.</summary>
    public int RepoContextBudget(int contextLength) => Math.Min(RepoContextTokens, contextLength / 4);

    /// <summary>
    /// The generator's options: the budget never takes the room the context leaves for the new tokens, and the prompt is
    /// cut at whole lines, so while the user types the cut, and the model's cache of the prompt, stay where they are.
    /// </summary>
    public SamplingOptions Sampling(int contextLength) => new(MaxNewTokens: MaxNewTokens, Temperature: Temperature, TopP: TopP)
    {
        FimFormat = Fim,
        FimPrefixShare = PrefixShare,
        MaxPromptTokens = ContextBudget > 0 ? Math.Min(ContextBudget, PromptBudget.PromptTokens(contextLength, MaxNewTokens)) : 0,
        PromptCut = PromptCut.WholeLines,
    };
}

/// <summary>
/// What the server needs from a model: fit a prompt to its budget, and fill in the middle. Production uses the Generator
/// over a checkpoint; the protocol layer depends only on this.
/// </summary>
public interface ICompletionEngine
{
    /// <summary>
    /// <paramref name="prompt"/> cut to what the model will read under <paramref name="options"/>: the context files that
    /// fit its budget, then whole lines nearest the cursor in what is left (the language tag kept). Cheap enough for every request; the completion cache is keyed by it, so edits far
    /// from the cursor still hit.
    /// </summary>
    CompletionPrompt Fit(CompletionPrompt prompt, EngineOptions options);

    /// <summary>
    /// The generated middle. Generation ends at end-of-text, at <see cref="EngineOptions.MaxNewTokens"/>, or as soon as
    /// <paramref name="shouldStop"/> returns true for the text so far. Throws <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    string Complete(CompletionPrompt prompt, EngineOptions options, Func<string, bool> shouldStop, CancellationToken ct);

    /// <summary>
    /// <paramref name="n"/> middles sampled at <see cref="EngineOptions.Temperature"/> (&gt; 0) from one prefill of the
    /// prompt, sample i seeded with i, so the same prompt gives the same samples. <paramref name="shouldStop"/> is asked per
    /// sample, as in <see cref="Complete"/>.
    /// </summary>
    IReadOnlyList<string> Sample(CompletionPrompt prompt, EngineOptions options, int n, Func<string, bool> shouldStop, CancellationToken ct);

    /// <summary>Continues <paramref name="prompt"/> (no fill-in-the-middle), greedily, until end-of-text, a stop sequence or the token budget.</summary>
    string Continue(string prompt, int maxNewTokens, IReadOnlyList<string> stops, CancellationToken ct);

    /// <summary>The prompt and new tokens the model can attend to at once.</summary>
    int ContextLength { get; }

    int CountTokens(string text);
}
