using CodeLm.Common;
using CodeLm.Model.Generation;
using System.Text.Json;
using CodeLm.Server.Completion;
using CodeLm.Server.Documents;
using CodeLm.Server.Protocol;
using Range = CodeLm.Server.Protocol.Range;

namespace CodeLm.Server.Tests;

/// <summary>Documents, prompt budget, settings, cache and language names.</summary>
public sealed class CompletionPartsTests
{
    private static int Words(string s) => s.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length + s.Count(c => c == '\n');

    /// <summary>What the engine keeps of the text around the cursor: its whole-lines cut under the budget.</summary>
    private static CompletionPrompt Fit(string prefix, string suffix, string language, int budget, double prefixShare, Func<string, int> countTokens)
    {
        var (p, s) = PromptBudget.SplitFimLines(LanguageTag.Prefix(language) + prefix, suffix, budget, prefixShare, countTokens);
        return new CompletionPrompt(p, s, language);
    }

    [Fact]
    public void Positions_are_utf16_units_over_lf_crlf_and_cr_lines_and_clamp_like_the_spec()
    {
        const string text = "a😀b\r\n漢字\rlast";
        Assert.Equal(3, TextDocument.OffsetOf(text, new Position(0, 3)));       // after the emoji's two units
        Assert.Equal(6, TextDocument.OffsetOf(text, new Position(1, 0)));       // after \r\n
        Assert.Equal(9, TextDocument.OffsetOf(text, new Position(2, 0)));       // after a lone \r
        Assert.Equal(4, TextDocument.OffsetOf(text, new Position(0, 99)));      // past the line end: the line end
        Assert.Equal(text.Length, TextDocument.OffsetOf(text, new Position(9, 0)));
        Assert.Equal(new Position(1, 2), TextDocument.PositionOf(text, 8));
        Assert.Equal(new Position(2, 4), TextDocument.PositionOf(text, text.Length));

        var doc = new TextDocument("file:///a", "python", 1, text);
        doc.Apply(2, [new TextDocumentContentChangeEvent(new Range(new Position(0, 1), new Position(0, 3)), 2, "🚀🚀"),
                      new TextDocumentContentChangeEvent(new Range(new Position(1, 2), new Position(1, 2)), 0, "!")]);
        Assert.Equal("a🚀🚀b\r\n漢字!\rlast", doc.Text);
        Assert.Equal(2, doc.Version);
        doc.Apply(3, [new TextDocumentContentChangeEvent(null, null, "whole")]);
        Assert.Equal("whole", doc.Text);
    }

    [Fact]
    public void Prompt_starts_with_the_language_tag_and_keeps_more_prefix_than_suffix_under_the_budget()
    {
        var prefix = string.Join("\n", Enumerable.Range(0, 200).Select(i => $"p{i} = {i}")) + "\nx = ";
        var suffix = "\n" + string.Join("\n", Enumerable.Range(0, 200).Select(i => $"s{i} = {i}"));
        var p = Fit(prefix, suffix, "Python", 100, 0.75, Words);
        Assert.StartsWith("# language: Python\n", p.Prefix);
        Assert.EndsWith("\nx = ", p.Prefix);
        Assert.StartsWith("\ns0 = 0", p.Suffix);
        Assert.True(Words(p.Prefix) + Words(p.Suffix) <= 100);
        Assert.True(Words(p.Prefix) > 2 * Words(p.Suffix));
        Assert.Contains("\np199 = 199\n", p.Prefix); // whole lines kept, nearest the cursor

        var shortSuffix = Fit(prefix, "\nend", "Python", 100, 0.75, Words);
        Assert.True(Words(shortSuffix.Prefix) > Words(p.Prefix)); // what the suffix does not use goes to the prefix
        var csharp = Fit("int x = ", "", "C#", 100, 0.5, Words);
        Assert.Equal("// language: C#\nint x = ", csharp.Prefix);
    }

    [Fact]
    public void Settings_read_top_level_or_codelm_section_and_reject_bad_values()
    {
        var warnings = new List<string>();
        var s = new CompletionSettings().With(JsonDocument.Parse("""
            { "codelm": { "maxNewTokens": 32, "temperature": 0.2, "contextBudget": 512, "prefixShare": 0.6,
                          "enabledLanguages": ["python", "csharp"], "fimFormat": "psm", "debounceMs": 200 } }
            """).RootElement, warnings.Add);
        Assert.Equal((32, 0.2f, 512, 0.6, FimFormat.Psm), (s.MaxNewTokens, s.Temperature, s.ContextBudget, s.PrefixShare, s.FimFormat));
        Assert.True(s.IsEnabledFor("Python"));
        Assert.False(s.IsEnabledFor("rust"));
        Assert.Empty(warnings);
        var t = s.With(JsonDocument.Parse("""{ "maxNewTokens": 0, "temperature": "x", "enabledLanguages": "go, rust", "enabled": false }""").RootElement, warnings.Add);
        Assert.Equal(32, t.MaxNewTokens);
        Assert.Equal(0.2f, t.Temperature);
        Assert.Equal(["go", "rust"], t.EnabledLanguages);
        Assert.False(t.IsEnabledFor("go"));
        Assert.Equal(2, warnings.Count);
    }

    [Fact]
    public void Cache_evicts_the_least_recently_used()
    {
        var cache = new CompletionCache<string>(capacity: 2);
        cache.Add("a", "1");
        cache.Add("b", "2");
        Assert.True(cache.TryGet("a", out _));
        cache.Add("c", "3");
        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("a", out var a) && a == "1");
        Assert.True(cache.TryGet("c", out _));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Language_ids_map_to_corpus_language_names()
    {
        Assert.Equal("C#", LanguageTable.FromLspId("csharp"));
        Assert.Equal("C++", LanguageTable.FromLspId("cpp"));
        Assert.Equal("Shell", LanguageTable.FromLspId("shellscript"));
        Assert.Equal("TypeScript", LanguageTable.FromLspId("typescriptreact"));
        Assert.Equal("Zig", LanguageTable.FromLspId("zig"));
    }
}
