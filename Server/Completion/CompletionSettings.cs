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
