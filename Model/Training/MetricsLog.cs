using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.Tokenizer;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model.Training;

/// <summary>One optimizer step as logged.</summary>
public sealed record StepMetrics(int Step, double Loss, double Lr, double GradNorm, double TokensPerSecond, double Mfu, long Tokens, double StepSeconds)
{
    /// <summary>Of <see cref="StepSeconds"/>, the time spent averaging gradients across ranks (null in a one-process run).</summary>
    public double? AllReduceSeconds { get; init; }
}

/// <summary>
/// Writes metrics.jsonl (one object per train step / eval), TensorBoard event files (tensorboard/) and loss.png
/// in the run directory. On resume the JSONL is cut back to the resumed step so the curve continues cleanly.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    public const string JsonlFile = "metrics.jsonl", PngFile = "loss.png", TensorBoardDir = "tensorboard";
    private readonly string _dir;
    private readonly StreamWriter _jsonl;
    private readonly SummaryWriter _tb;
    private readonly List<(int Step, double Loss)> _train = [], _val = [];

    public MetricsLog(string runDir, int resumeStep)
    {
        _dir = runDir;
        var path = Path.Combine(runDir, JsonlFile);
        var kept = new List<string>();
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                JsonNode? node;
                try { node = JsonNode.Parse(line); } catch (JsonException) { continue; } // a torn last line from a crash
                int step = node?["step"]?.GetValue<int>() ?? int.MaxValue;
                if (step > resumeStep) continue;
                kept.Add(line);
                if (node!["type"]?.GetValue<string>() == "train") _train.Add((step, node["loss"]!.GetValue<double>()));
                else if (node["type"]?.GetValue<string>() == "eval") _val.Add((step, node["val_loss"]!.GetValue<double>()));
            }
        }
        AtomicFile.WriteAllText(path, kept.Count == 0 ? "" : string.Join('\n', kept) + "\n");
        _jsonl = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        _tb = utils.tensorboard.SummaryWriter(Path.Combine(runDir, TensorBoardDir));
    }

    public IReadOnlyList<(int Step, double Loss)> Train => _train;
    public IReadOnlyList<(int Step, double Loss)> Validation => _val;

    public void LogStep(StepMetrics m)
    {
        _train.Add((m.Step, m.Loss));
        var line = new JsonObject
        {
            ["type"] = "train", ["step"] = m.Step, ["loss"] = Finite(m.Loss), ["lr"] = m.Lr, ["grad_norm"] = Finite(m.GradNorm),
            ["tokens_per_s"] = Math.Round(m.TokensPerSecond, 1), ["mfu"] = Math.Round(m.Mfu, 5), ["tokens"] = m.Tokens,
            ["step_s"] = Math.Round(m.StepSeconds, 4),
        };
        if (m.AllReduceSeconds is { } comm)
        {
            line["allreduce_s"] = Math.Round(comm, 5);
            _tb.add_scalar("perf/allreduce_s", (float)comm, m.Step);
        }
        Write(line);
        if (double.IsFinite(m.Loss)) _tb.add_scalar("train/loss", (float)m.Loss, m.Step);
        _tb.add_scalar("train/lr", (float)m.Lr, m.Step);
        if (double.IsFinite(m.GradNorm)) _tb.add_scalar("train/grad_norm", (float)m.GradNorm, m.Step);
        _tb.add_scalar("perf/tokens_per_s", (float)m.TokensPerSecond, m.Step);
        _tb.add_scalar("perf/mfu", (float)m.Mfu, m.Step);
    }

    public void LogEval(int step, double valLoss, bool best)
    {
        _val.Add((step, valLoss));
        Write(new JsonObject { ["type"] = "eval", ["step"] = step, ["val_loss"] = valLoss, ["best"] = best });
        _tb.add_scalar("val/loss", (float)valLoss, step);
    }

    public void LogEvent(int step, string message) => Write(new JsonObject { ["type"] = "event", ["step"] = step, ["message"] = message });

    public void WriteLossCurve() => LossCurvePng.Write(Path.Combine(_dir, PngFile), _train, _val);

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(v.ToString(CultureInfo.InvariantCulture));

    private void Write(JsonObject o) => _jsonl.WriteLine(o.ToJsonString());

    public void Dispose()
    {
        _jsonl.Dispose();
    }
}
