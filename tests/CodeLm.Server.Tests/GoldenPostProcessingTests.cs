using CodeLm.Common.Completion;
using CodeLm.Server.Completion;
using CodeLm.Server.Documents;

namespace CodeLm.Server.Tests;

/// <summary>
/// Post-processing golden cases, one file each under Golden/: a document with a `&lt;|cursor|&gt;` marker, the model's raw
/// output, the expected insert text (`&lt;none&gt;` when the result must be dropped) and range (`line:char-line:char`,
/// UTF-16). A literal `\r` at a line end stands for a carriage return.
/// </summary>
public sealed class GoldenPostProcessingTests
{
    private const string Cursor = "<|cursor|>";

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Golden"), "*.golden").Order())
            data.Add(Path.GetFileNameWithoutExtension(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden(string name)
    {
        var g = Load(Path.Combine(AppContext.BaseDirectory, "Golden", name + ".golden"));
        var offset = g.Document.IndexOf(Cursor, StringComparison.Ordinal);
        Assert.True(offset >= 0, "no cursor marker");
        var text = g.Document.Remove(offset, Cursor.Length);
        var ctx = CursorContext.Create(text, offset);
        if (g.Mode != null) Assert.Equal(g.Mode, ctx.Mode.ToString());

        var shaped = CompletionShaper.Shape(ctx, g.Model);
        if (g.Insert == "<none>") { Assert.Null(shaped); return; }
        Assert.NotNull(shaped);
        Assert.Equal(g.Insert, shaped.InsertText);
        var start = TextDocument.PositionOf(text, offset);
        var end = TextDocument.PositionOf(text, offset + shaped.ReplaceLength);
        Assert.Equal(g.Range, $"{start.Line}:{start.Character}-{end.Line}:{end.Character}");

        // Generation stops at the first stop condition: what a stream stopped there shapes to must be the same.
        var streamed = g.Model;
        for (var i = 1; i <= g.Model.Length; i++)
            if (CompletionShaper.ShouldStop(ctx, g.Model[..i])) { streamed = g.Model[..i]; break; }
        Assert.Equal(shaped, CompletionShaper.Shape(ctx, streamed));
        Assert.True(streamed.Length <= g.Model.Length);
    }

    [Fact]
    public void Generation_stops_early_for_a_line_and_at_the_end_of_a_block()
    {
        var line = CursorContext.Create("x = ", 4);
        Assert.True(CompletionShaper.ShouldStop(line, "compute()\n"));
        Assert.False(CompletionShaper.ShouldStop(line, "compute()"));
        var block = CursorContext.Create("def f():\n    ", 13);
        Assert.False(CompletionShaper.ShouldStop(block, "a = 1\n    return a\n"));
        Assert.True(CompletionShaper.ShouldStop(block, "a = 1\n    return a\ndef g():\n"));
    }

    private sealed record GoldenCase(string Document, string Model, string Insert, string? Range, string? Mode);

    private static GoldenCase Load(string path)
    {
        var sections = new Dictionary<string, List<string>>();
        var headers = new Dictionary<string, string>();
        List<string>? current = null;
        foreach (var raw in File.ReadAllText(path).Split('\n'))
        {
            if (raw.StartsWith("--- ", StringComparison.Ordinal)) { sections[raw[4..].Trim()] = current = []; continue; }
            if (current == null)
            {
                var colon = raw.IndexOf(':');
                if (colon > 0) headers[raw[..colon].Trim()] = raw[(colon + 1)..].Trim();
                continue;
            }
            current.Add(raw);
        }
        string Section(string name)
        {
            var lines = sections[name];
            if (lines.Count > 0 && lines[^1].Length == 0) lines = lines[..^1]; // the file's last newline
            return string.Join("\n", lines).Replace("\\r\n", "\r\n");
        }
        return new GoldenCase(Section("document"), Section("model"), Section("insert"),
            sections.ContainsKey("range") ? Section("range").Trim() : null, headers.GetValueOrDefault("mode"));
    }
}
