using CodeLm.Common;
using System.Text.Json;

namespace CodeLm.Server.Completion;

/// <summary>
/// User settings, from `initializationOptions` and `workspace/didChangeConfiguration`. Keys may sit at the top level
/// or under a `codelm` section (what vscode-languageclient sends for `synchronize.configurationSection: "codelm"`).
/// </summary>
public sealed record CompletionSettings
{
    /// <summary>Most tokens generated per completion.</summary>
    public int MaxNewTokens { get; init; } = 48;

    /// <summary>0 is greedy (deterministic, cacheable).</summary>
    public float Temperature { get; init; }

    /// <summary>Prompt tokens (language tag + prefix + suffix), capped by the model's context minus MaxNewTokens.</summary>
    public int ContextBudget { get; init; } = 1024;

    /// <summary>Share of the budget for the text before the cursor; the rest goes to the text after it.</summary>
    public double PrefixShare { get; init; } = 0.75;

    /// <summary>
    /// SPM (suffix, then prefix: text typed at the cursor only extends the prompt, so the model's cache is reused
    /// while typing) or PSM (prefix, then suffix); "spm" or "psm" in the settings. The trainer uses both by default.
    /// </summary>
    public FimFormat FimFormat { get; init; } = FimFormat.Spm;

    /// <summary>LSP languageIds served; "*" serves every language.</summary>
    public IReadOnlyList<string> EnabledLanguages { get; init; } = ["*"];

    /// <summary>Master switch: when false the server answers every completion with nothing.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Most distinct items per inline completion: the greedy one first, then samples at <see cref="CandidateTemperature"/>
    /// from the same prompt. <see cref="CandidateMode"/> says when the extras are worth their time.
    /// </summary>
    public int Candidates { get; init; } = 3;

    public CandidateMode CandidateMode { get; init; } = CandidateMode.OnCycle;

    /// <summary>Whether parts of other open (and recently closed) files go before the prompt.</summary>
    public bool RepoContext { get; init; } = true;

    /// <summary>Most tokens of that context (the engine also caps it at a quarter of the model's context).</summary>
    public int RepoContextTokens { get; init; } = 512;

    /// <summary>Whether the editor's completion events go to the local acceptance log (`codelm stats`).</summary>
    public bool AcceptanceLog { get; init; } = true;

    /// <summary>Temperature of the extra candidates (the first is always greedy).</summary>
    public float CandidateTemperature { get; init; } = 0.8f;

    /// <summary>How many items a request gets: every one under <see cref="CandidateMode.Eager"/>, else only an explicit one.</summary>
    public int CandidatesFor(bool explicitRequest) =>
        CandidateMode == CandidateMode.Eager || explicitRequest ? Candidates : 1;

    public bool IsEnabledFor(string languageId) =>
        Enabled && EnabledLanguages.Any(l => l == "*" || string.Equals(l, languageId, StringComparison.OrdinalIgnoreCase));

    /// <summary>These settings with the values present in <paramref name="json"/> applied; bad values are reported and ignored.</summary>
    public CompletionSettings With(JsonElement? json, Action<string>? warn = null)
    {
        if (json is not { ValueKind: JsonValueKind.Object } root) return this;
        if (root.TryGetProperty("codelm", out var section) && section.ValueKind == JsonValueKind.Object) root = section;
        var s = this;
        foreach (var p in root.EnumerateObject())
        {
            try
            {
                s = p.Name switch
                {
                    "maxNewTokens" => s with { MaxNewTokens = Check(p.Value.GetInt32(), 1, 1024, p.Name) },
                    "temperature" => s with { Temperature = (float)Check(p.Value.GetDouble(), 0, 2, p.Name) },
                    "contextBudget" => s with { ContextBudget = Check(p.Value.GetInt32(), 32, 1 << 20, p.Name) },
                    "prefixShare" => s with { PrefixShare = Check(p.Value.GetDouble(), 0.05, 0.95, p.Name) },
                    "enabledLanguages" => s with { EnabledLanguages = Languages(p.Value) },
                    "fimFormat" => s with { FimFormat = p.Value.GetString() switch { "spm" => FimFormat.Spm, "psm" => FimFormat.Psm, _ => throw new FormatException("expected \"spm\" or \"psm\"") } },
                    "enabled" => s with { Enabled = p.Value.GetBoolean() },
                    "repoContext" => s with { RepoContext = p.Value.GetBoolean() },
                    "repoContextTokens" => s with { RepoContextTokens = Check(p.Value.GetInt32(), 0, 1 << 16, p.Name) },
                    "acceptanceLog" => s with { AcceptanceLog = p.Value.GetBoolean() },
                    "candidates" => s with { Candidates = Check(p.Value.GetInt32(), 1, 8, p.Name) },
                    "candidateMode" => s with { CandidateMode = p.Value.GetString() switch { "onCycle" => CandidateMode.OnCycle, "eager" => CandidateMode.Eager, _ => throw new FormatException("expected \"onCycle\" or \"eager\"") } },
                    "candidateTemperature" => s with { CandidateTemperature = (float)Check(p.Value.GetDouble(), 0.05, 2, p.Name) },
                    _ => s,
                };
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
            {
                warn?.Invoke($"setting '{p.Name}' ignored: {e.Message}");
            }
        }
        return s;
    }

    private static IReadOnlyList<string> Languages(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => e.EnumerateArray().Select(x => x.GetString() ?? throw new FormatException("expected strings")).ToArray(),
        JsonValueKind.String => e.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        _ => throw new FormatException("expected a list of languageIds"),
    };

    private static T Check<T>(T value, T min, T max, string name) where T : IComparable<T> =>
        value.CompareTo(min) >= 0 && value.CompareTo(max) <= 0 ? value : throw new ArgumentException($"{name} must be in [{min}, {max}], got {value}");
}

/// <summary>
/// When the extra candidates are generated. <see cref="OnCycle"/>: only for explicit requests (the editor asks again, as
/// "invoked", when the user cycles with Alt+] or triggers by hand), so ghost text while typing costs one greedy
/// generation. <see cref="Eager"/>: with every request, so cycling is instant but every answer waits for all of them.
/// </summary>
public enum CandidateMode { OnCycle, Eager }
