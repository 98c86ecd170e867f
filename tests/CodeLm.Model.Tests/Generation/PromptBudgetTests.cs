using CodeLm.Common;
using CodeLm.Model.Generation;

namespace CodeLm.Model.Tests.Generation;

public class PromptBudgetTests
{
    [Theory]
    [InlineData(512, 128, 0, 384)]
    [InlineData(512, 1000, 0, 256)]   // room for new tokens is capped at half the context
    [InlineData(512, 128, 100, 100)]
    [InlineData(512, 128, 9999, 511)]
    [InlineData(2, 1, 0, 1)]
    public void Prompt_budget_leaves_room_for_new_tokens(int context, int maxNew, int maxPrompt, int expected) =>
        Assert.Equal(expected, PromptBudget.PromptTokens(context, maxNew, maxPrompt));

    [Fact]
    public void Keep_end_keeps_the_tokens_nearest_the_cursor_after_the_pinned_head()
    {
        int[] tokens = [.. Enumerable.Range(0, 10)];
        Assert.Equal(tokens, PromptBudget.KeepEnd(tokens, 10));
        Assert.Equal([6, 7, 8, 9], PromptBudget.KeepEnd(tokens, 4));
        Assert.Equal([100, 101, 8, 9], PromptBudget.KeepEnd(tokens, 4, [100, 101]));
        Assert.Equal([7, 8, 9], PromptBudget.KeepEnd(tokens, 3, [100, 101, 102])); // a head that fills the budget is dropped
    }

    [Theory]
    [InlineData(100, 100, 300, 100, 100)]  // both fit
    [InlineData(1000, 1000, 100, 75, 25)]  // both long: 75/25
    [InlineData(10, 1000, 100, 10, 90)]    // short prefix lends its room to the suffix
    [InlineData(1000, 5, 100, 95, 5)]      // short suffix lends its room to the prefix
    [InlineData(1000, 1000, 0, 0, 0)]
    public void Fim_budget_is_split_with_more_room_for_the_prefix(int prefix, int suffix, int budget, int keepPrefix, int keepSuffix) =>
        Assert.Equal((keepPrefix, keepSuffix), PromptBudget.SplitFim(prefix, suffix, budget, 0.75));

    [Fact]
    public void A_whole_lines_cut_moves_a_line_at_a_time_while_the_user_types()
    {
        static int Words(string s) => s.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length + s.Count(c => c == '\n');
        var prefix = LanguageTag.Prefix("Python") + string.Join("\n", Enumerable.Range(0, 300).Select(i => $"p{i} = {i}")) + "\nx =";
        var suffix = "\n" + string.Join("\n", Enumerable.Range(0, 300).Select(i => $"s{i} = {i}"));
        var firstLines = new HashSet<string>();
        var typed = "";
        foreach (var word in "abcdefgh")
        {
            typed += " " + word; // one more token each time: a cut by tokens would move every time
            var (kept, keptSuffix) = PromptBudget.SplitFimLines(prefix + typed, suffix, 200, 0.75, Words);
            Assert.StartsWith("# language: Python\np", kept);
            Assert.EndsWith("\nx =" + typed, kept);
            Assert.StartsWith("\ns0 = 0\n", keptSuffix);
            Assert.True(Words(kept) + Words(keptSuffix) <= 200);
            firstLines.Add(kept.Split('\n')[1]);
        }
        Assert.InRange(firstLines.Count, 1, 3); // whole lines: the cut, and the model's cache of what follows it, mostly stay put
    }

    [Theory]
    [InlineData("Python")]
    [InlineData("C#")]
    [InlineData("HTML")]
    [InlineData("SQL")]
    [InlineData("CSS")]
    [InlineData("Pascal")]
    [InlineData("Fortran")]
    public void Language_tag_lines_are_recognized(string language)
    {
        var text = LanguageTag.Prefix(language) + "code here\nmore\n";
        Assert.Equal(LanguageTag.Prefix(language), LanguageTag.ReadLine(text));
    }

    [Theory]
    [InlineData("import os\n# language: Python\n")]
    [InlineData("x = 'language: Python'\n")]
    [InlineData("# language: Python")] // no newline: nothing after it to cut
    public void Other_first_lines_are_not_language_tags(string text) => Assert.Null(LanguageTag.ReadLine(text));
}
