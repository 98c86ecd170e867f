using System.Globalization;
using CodeLm.Common.Charts;

namespace CodeLm.Eval.Scoring;

/// <summary>
/// pass@k against k (log scale) per language, written beside summary.json as pass_at_k.png when at least two k were
/// reported: how fast more samples pay off is the curve's shape, which one number cannot show.
/// </summary>
public static class PassAtKPng
{
    public const string FileName = "pass_at_k.png";
    private const int W = 800, H = 480, Left = 70, Right = 170, Top = 30, Bottom = 50;

    private static readonly (byte, byte, byte)[] Colors =
        [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127)];

    /// <summary>Writes the plot; false (and nothing written) when no row has two k to draw.</summary>
    public static bool Write(string path, EvalSummary summary)
    {
        var rows = summary.Languages.Select(l => (l.Language, Points: l.PassAtK.Select(kv => (K: K(kv.Key), kv.Value)).Where(p => p.K > 0).OrderBy(p => p.K).ToList()))
            .Where(r => r.Points.Count >= 2).ToList();
        if (rows.Count == 0) return false;
        var png = new PngCanvas(W, H);
        var kMax = rows.SelectMany(r => r.Points).Max(p => p.K);
        var span = Math.Max(Math.Log10(kMax), 1);
        int X(double k) => Left + (int)Math.Round(Math.Log10(k) / span * (W - Left - Right));
        int Y(double v) => H - Bottom - (int)Math.Round(v * (H - Top - Bottom));
        for (var i = 0; i <= 5; i++)
        {
            png.Line(Left, Y(i / 5.0), W - Right, Y(i / 5.0), PngCanvas.Grid);
            png.Text((i / 5.0).ToString("F1", CultureInfo.InvariantCulture), 20, Y(i / 5.0) - 5, PngCanvas.Ink);
        }
        for (var k = 1; k <= kMax; k *= 10) png.Text(k.ToString(CultureInfo.InvariantCulture), X(k) - 4, H - Bottom + 10, PngCanvas.Ink);
        png.Line(Left, Top, Left, H - Bottom, PngCanvas.Ink);
        png.Line(Left, H - Bottom, W - Right, H - Bottom, PngCanvas.Ink);
        for (var i = 0; i < rows.Count; i++)
        {
            var c = Colors[i % Colors.Length];
            var pts = rows[i].Points.Select(p => (X(p.K), Y(p.Value))).ToList();
            png.Polyline(pts, c);
            foreach (var (x, y) in pts) png.Box(x - 2, y - 2, 5, 5, c);
            png.Box(W - Right + 20, Top + i * 20, 14, 10, c);
            png.Text(rows[i].Language, W - Right + 40, Top + i * 20, PngCanvas.Ink);
        }
        png.Text("k", (W - Right + Left) / 2, H - 18, PngCanvas.Ink);
        png.Text("pass@k", 8, 8, PngCanvas.Ink);
        png.Save(path);
        return true;
    }

    private static int K(string key) => key.StartsWith("pass@", StringComparison.Ordinal) && int.TryParse(key[5..], CultureInfo.InvariantCulture, out var k) ? k : 0;
}
