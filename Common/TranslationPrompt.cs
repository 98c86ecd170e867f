namespace CodeLm.Common;

/// <summary>
/// The one layout a model is asked to translate in, by evaluation, `codelm translate` and the editor: the source under its
/// language's tag line, a blank line, then the target's tag line and whatever the target already starts with (HumanEval-X
/// gives its declaration). Tag lines are how CodeLm's training frames documents, so a model trained here reads this as
/// "a new file in the target language follows".
/// </summary>
public static class TranslationPrompt
{
    public static string Build(string sourceLanguage, string sourceCode, string targetLanguage, string targetStart = "") =>
        LanguageTag.Prefix(sourceLanguage) + sourceCode.TrimEnd() + "\n\n" + LanguageTag.Prefix(targetLanguage) + targetStart;

    /// <summary>Where a translation of a whole file ends besides end-of-text: the model starting another tagged file.</summary>
    public static IReadOnlyList<string> Stops(string sourceLanguage, string targetLanguage) =>
        ["\n" + LanguageTag.Line(sourceLanguage), "\n" + LanguageTag.Line(targetLanguage)];
}
