using System.Text;
using System.Text.Unicode;
using CodeLm.DataPipeline.Clean;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>The result of cleaning one file: a drop reason, or the cleaned text with its language and redaction counts.</summary>
internal readonly record struct CleanedFile(DropReason? Drop, string? Language, string? Text, int[]? Redactions);

/// <summary>Runs the content filters, the C# syntax check and redaction on one file's bytes.</summary>
internal static class FileCleaner
{
    public static CleanedFile Clean(string path, string? pathLanguage, ReadOnlySpan<byte> bytes, CleaningOptions o, CancellationToken ct)
    {
        if (FileFilters.IsLfsPointer(bytes)) return Drop(DropReason.LfsPointer);
        if (FileFilters.IsBinary(bytes)) return Drop(DropReason.Binary);
        if (!Utf8.IsValid(bytes)) return Drop(DropReason.InvalidUtf8);
        if (bytes.StartsWith("\xEF\xBB\xBF"u8)) bytes = bytes[3..];
        var text = Encoding.UTF8.GetString(bytes);
        if (text.Contains('\r')) text = text.Replace("\r\n", "\n", StringComparison.Ordinal);

        var language = pathLanguage == "C" || pathLanguage == null ? LanguageDetector.Detect(path, text) : pathLanguage;
        if (language == null) return Drop(DropReason.UnknownLanguage);
        if (o.Languages != null && !o.Languages.Contains(language, StringComparer.OrdinalIgnoreCase)) return Drop(DropReason.LanguageNotSelected);

        var stats = FileFilters.Measure(text);
        if (FileFilters.ByContent(path, language, text, stats, o) is { } reason) return Drop(reason);
        if (o.CheckCSharpSyntax && language == "C#" && CSharpSyntaxCheck.FirstError(text, ct) != null) return Drop(DropReason.CSharpSyntaxError);

        int[]? counts = null;
        if (o.Redact)
        {
            Span<int> c = stackalloc int[Redactor.KindCount];
            var redacted = Redactor.Redact(text, c);
            if (!ReferenceEquals(redacted, text)) { text = redacted; counts = c.ToArray(); }
        }
        return new CleanedFile(null, language, text, counts);
    }

    private static CleanedFile Drop(DropReason reason) => new(reason, null, null, null);
}
