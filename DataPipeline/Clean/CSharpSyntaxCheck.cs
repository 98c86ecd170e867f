using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CodeLm.DataPipeline.Clean;

/// <summary>Parses C# with Roslyn; a file with any syntax error is dropped (it would teach the model broken code).</summary>
public static class CSharpSyntaxCheck
{
    private static readonly CSharpParseOptions Options = new(LanguageVersion.Preview, DocumentationMode.None);

    /// <summary>The first syntax error as "line:col message", or null when the file parses cleanly.</summary>
    public static string? FirstError(string text, CancellationToken ct = default)
    {
        var tree = CSharpSyntaxTree.ParseText(text, Options, cancellationToken: ct);
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
}
