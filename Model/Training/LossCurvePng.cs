using CodeLm.Common.Charts;

namespace CodeLm.Model.Training;

/// <summary>
/// Draws the train (blue; pale raw steps under a moving average when there are many) and validation (orange) loss curves
/// into an RGB PNG with axes, grid and tick labels.
/// </summary>
public static class LossCurvePng
{
    private const int W = 800, H = 480, Left = 70, Right = 20, Top = 30, Bottom = 50;
    private static readonly (byte R, byte G, byte B) Train = (31, 119, 180), RawTrain = (190, 212, 235), Val = (255, 127, 14);

    public static void Write(string path, IReadOnlyList<(int Step, double Loss)> train, IReadOnlyList<(int Step, double Loss)> val)
    {
        var png = new PngCanvas(W, H);
        var all = train.Concat(val).Where(p => double.IsFinite(p.Loss)).ToList();
        if (all.Count > 0)
        {
            double x0 = all.Min(p => p.Step), x1 = Math.Max(all.Max(p => p.Step), x0 + 1);
            double y0 = Math.Max(0, all.Min(p => p.Loss)), y1 = all.Max(p => p.Loss);
            if (y1 - y0 < 1e-6) y1 = y0 + 1;
            int X(double s) => Left + (int)Math.Round((s - x0) / (x1 - x0) * (W - Left - Right));
            int Y(double l) => H - Bottom - (int)Math.Round((l - y0) / (y1 - y0) * (H - Top - Bottom));

            for (int i = 0; i <= 5; i++)
            {
                double v = y0 + (y1 - y0) * i / 5;
                png.Line(Left, Y(v), W - Right, Y(v), PngCanvas.Grid);
                png.Text(v.ToString(v >= 100 ? "F0" : "F2", System.Globalization.CultureInfo.InvariantCulture), 8, Y(v) - 5, PngCanvas.Ink);
                double s = x0 + (x1 - x0) * i / 5;
                png.Text(((long)Math.Round(s)).ToString(System.Globalization.CultureInfo.InvariantCulture), X(s) - 10, H - Bottom + 10, PngCanvas.Ink);
            }
            png.Line(Left, Top, Left, H - Bottom, PngCanvas.Ink);
            png.Line(Left, H - Bottom, W - Right, H - Bottom, PngCanvas.Ink);
            var finite = train.Where(p => double.IsFinite(p.Loss)).ToList();
            if (finite.Count > 50)
            {
                // Raw per-step loss in a pale tint, with an exponential moving average over it.
                png.Polyline(finite.Select(p => (X(p.Step), Y(p.Loss))).ToList(), RawTrain);
                double ema = finite[0].Loss;
                png.Polyline(finite.Select(p => { ema = 0.95 * ema + 0.05 * p.Loss; return (X(p.Step), Y(ema)); }).ToList(), Train);
            }
            else png.Polyline(finite.Select(p => (X(p.Step), Y(p.Loss))).ToList(), Train);
            var v2 = val.Where(p => double.IsFinite(p.Loss)).Select(p => (X(p.Step), Y(p.Loss))).ToList();
            png.Polyline(v2, Val);
            foreach (var (x, y) in v2) png.Box(x - 2, y - 2, 5, 5, Val);
        }
        png.Text("step", W / 2 - 16, H - 18, PngCanvas.Ink);
        png.Text("loss", 8, 8, PngCanvas.Ink);
        png.Box(W - 170, 10, 14, 10, Train); png.Text("train", W - 150, 8, PngCanvas.Ink);
        png.Box(W - 90, 10, 14, 10, Val); png.Text("val", W - 70, 8, PngCanvas.Ink);
        png.Save(path);
    }
}
