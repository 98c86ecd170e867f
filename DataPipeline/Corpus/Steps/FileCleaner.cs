using System.Text;
using System.Text.Unicode;
using CodeLm.DataPipeline.Clean;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>
/// The result of cleaning one file: a drop reason, or the cleaned text with its language and redaction counts. Text and
/// Utf8 (the same text as UTF-8) lie in the cleaner's buffers or the input: valid until that cleaner's next file.
/// </summary>
internal readonly record struct CleanedFile(DropReason? Drop, string? Language, int[]? Redactions, ReadOnlyMemory<char> Text, ReadOnlyMemory<byte> Utf8);

/// <summary>
/// Runs the content filters, the C# syntax check and redaction on one file's bytes. One per scan worker: the text is
/// decoded into buffers it reuses, outside the GC heap (<see cref="NativeBuffer{T}"/>).
/// </summary>
/// <param name="largest">The largest file it will see, in bytes: its buffers are allocated once, at that size.</param>
internal sealed class FileCleaner(int largest) : IDisposable
{
    private NativeBuffer<char> _chars = new(largest + 1);
    private NativeBuffer<byte> _utf8 = new(largest + 16);

    public CleanedFile Clean(string path, string? pathLanguage, ReadOnlyMemory<byte> input, CleaningOptions o, CancellationToken ct)
    {
        var bytes = input.Span;
        if (FileFilters.IsLfsPointer(bytes)) return Drop(DropReason.LfsPointer);
        if (FileFilters.IsBinary(bytes)) return Drop(DropReason.Binary);
        if (!Utf8.IsValid(bytes)) return Drop(DropReason.InvalidUtf8);
        if (bytes.StartsWith("\xEF\xBB\xBF"u8)) input = input[3..];
        var decoded = Decode(input.Span);
        ReadOnlyMemory<char> text = WithoutCarriageReturns(decoded);
        bool unchanged = text.Length == decoded.Length;

        var language = pathLanguage == "C" || pathLanguage == null ? LanguageDetector.Detect(path, text.Span) : pathLanguage;
        if (language == null) return Drop(DropReason.UnknownLanguage);
        if (o.Languages != null && !o.Languages.Contains(language, StringComparer.OrdinalIgnoreCase)) return Drop(DropReason.LanguageNotSelected);

        var stats = FileFilters.Measure(text.Span);
        if (FileFilters.ByContent(path, language, text.Span, stats, o) is { } reason) return Drop(reason);
        if (o.CheckCSharpSyntax && language == "C#" && CSharpSyntaxCheck.FirstError(text, ct) != null) return Drop(DropReason.CSharpSyntaxError);

        int[]? counts = null;
        if (o.Redact)
        {
            Span<int> c = stackalloc int[Redactor.KindCount];
            if (Redactor.TryRedact(text.Span, c) is { } redacted)
            {
                text = redacted.AsMemory();
                counts = c.ToArray();
                unchanged = false;
            }
        }
        // Unchanged text is the input's own UTF-8 (less a BOM): no need to encode it again.
        return new CleanedFile(null, language, counts, text, unchanged ? input : Encode(text.Span));
    }

    private Memory<char> Decode(ReadOnlySpan<byte> bytes)
    {
        // A UTF-8 text never has more UTF-16 characters than bytes.
        var chars = NativeBuffer<char>.AtLeast(ref _chars, bytes.Length);
        return chars.Memory[..Encoding.UTF8.GetChars(bytes, chars.GetSpan())];
    }

    /// <summary>CRLF → LF, in place.</summary>
    private static Memory<char> WithoutCarriageReturns(Memory<char> text)
    {
        var s = text.Span;
        int i = s.IndexOf("\r\n");
        if (i < 0) return text;
        int w = i;
        for (; i < s.Length; i++)
            if (!(s[i] == '\r' && i + 1 < s.Length && s[i + 1] == '\n')) s[w++] = s[i];
        return text[..w];
    }

    private ReadOnlyMemory<byte> Encode(ReadOnlySpan<char> text)
    {
        var utf8 = NativeBuffer<byte>.AtLeast(ref _utf8, Encoding.UTF8.GetByteCount(text));
        return utf8.Memory[..Encoding.UTF8.GetBytes(text, utf8.GetSpan())];
    }

    private static CleanedFile Drop(DropReason reason) => new(reason, null, null, default, default);

    public void Dispose()
    {
        _chars.Free();
        _utf8.Free();
    }
}
