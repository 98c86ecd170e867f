using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace CodeLm.DataPipeline.Clean;

/// <summary>Parses C# with Roslyn; a file with any syntax error is dropped (it would teach the model broken code).</summary>
public static class CSharpSyntaxCheck
{
    private static readonly CSharpParseOptions Options = new(LanguageVersion.Preview, DocumentationMode.None);

    /// <summary>The first syntax error as "line:col message", or null when the file parses cleanly.</summary>
    public static string? FirstError(string text, CancellationToken ct = default) => FirstError(SourceText.From(text), ct);

    /// <summary>As <see cref="FirstError(string, CancellationToken)"/>, for text in a buffer the caller reuses: a large
    /// file costs no string on the large-object heap, whose budget forces a full, blocking collection every few megabytes.</summary>
    public static string? FirstError(ReadOnlyMemory<char> text, CancellationToken ct = default) => FirstError(new MemoryText(text), ct);

    private static string? FirstError(SourceText source, CancellationToken ct)
    {
        var tree = CSharpSyntaxTree.ParseText(source, Options, cancellationToken: ct);
        // The root knows whether any diagnostic exists; walking them is only needed when one does.
        if (!tree.GetRoot(ct).ContainsDiagnostics) return null;
        foreach (var d in tree.GetDiagnostics(ct))
            if (d.Severity == DiagnosticSeverity.Error)
            {
                var pos = d.Location.GetLineSpan().StartLinePosition;
                return $"{pos.Line + 1}:{pos.Character + 1} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
            }
        return null;
    }

    /// <summary>A <see cref="SourceText"/> over characters in memory, for the parse only: nothing keeps it after.</summary>
    private sealed class MemoryText(ReadOnlyMemory<char> text) : SourceText
    {
        public override Encoding? Encoding => null;
        public override int Length => text.Length;
        public override char this[int position] => text.Span[position];

        public override void CopyTo(int sourceIndex, char[] destination, int destinationIndex, int count) =>
            text.Span.Slice(sourceIndex, count).CopyTo(destination.AsSpan(destinationIndex, count));

        public override string ToString(TextSpan span) => text.Span.Slice(span.Start, span.Length).ToString();
    }
}
