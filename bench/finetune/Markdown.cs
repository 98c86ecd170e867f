using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace CodeLm.Bench.Finetune;

/// <summary>The report as the tables docs/benchmarks.md carries, so the numbers are pasted, not retyped.</summary>
public static class Markdown
{
    private static string F(double v, string format = "F3") => v.ToString(format, CultureInfo.InvariantCulture);

    public static string Losses(JsonObject report)
    {
        var hold = report["holdout validation"]!.AsObject();
        var pre = report["pretrain validation"]!.AsObject();
        double Loss(JsonObject split, string model) => (double)split["models"]![model]!["loss"]!;
        double Lang(JsonObject split, string model, string lang) => (double)split["models"]![model]!["by_language"]![lang]!["loss"]!;
        double basis = Loss(hold, "pretrained");
        double fullGain = basis - Loss(hold, "full FT");
        var sb = new StringBuilder();
        sb.AppendLine($"held-out repository validation: {(long)hold["targets"]!:N0} targets in {(int)hold["windows"]!} windows; " +
            $"unigram entropy {F((double)hold["unigram_entropy"]!)}, unigram fitted on the pretraining train split {F((double)hold["unigram_ce_pretrain_train"]!)}, " +
            $"on the repository's train split {F((double)hold["unigram_ce_holdout_train"]!)}");
        sb.AppendLine($"pretraining validation: {(long)pre["targets"]!:N0} targets in {(int)pre["windows"]!} windows; " +
            $"unigram entropy {F((double)pre["unigram_entropy"]!)}, unigram fitted on the pretraining train split {F((double)pre["unigram_ce_pretrain_train"]!)}");
        sb.AppendLine();
        sb.AppendLine("| model | repo validation loss | its Python files | gain | share of full FT's gain | pretraining validation loss | forgetting |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var m in new[] { "pretrained", "full FT", "LoRA" })
        {
            double gain = basis - Loss(hold, m);
            sb.AppendLine($"| {m} | {F(Loss(hold, m))} | {F(Lang(hold, m, "Python"))} | {(m == "pretrained" ? "—" : F(gain))} | " +
                $"{(m == "pretrained" ? "—" : F(100 * gain / fullGain, "F1") + " %")} | {F(Loss(pre, m))} | " +
                $"{(m == "pretrained" ? "—" : (Loss(pre, m) - Loss(pre, "pretrained") >= 0 ? "+" : "") + F(Loss(pre, m) - Loss(pre, "pretrained")))} |");
        }
        sb.AppendLine();
        sb.AppendLine("| run | trainable parameters | AdamW moments (2 × fp32) | optimizer file floats | steps | tokens | wall | tokens/s median (p10–p90) |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var (name, r) in report["runs"]!.AsObject())
        {
            var o = r!.AsObject();
            sb.AppendLine($"| {name} | {(long)o["trainable_params"]!:N0} | {(long)o["optimizer_bytes"]! / 1024.0:N1} KiB | {(long)o["optimizer_file_floats"]!:N0} | " +
                $"{(int)o["steps"]!} | {(long)o["tokens"]!:N0} | {F((double)o["wall_s"]!, "F0")} s | " +
                $"{F((double)o["tokens_per_s_median"]!, "N0")} ({F((double)o["tokens_per_s_p10"]!, "N0")}–{F((double)o["tokens_per_s_p90"]!, "N0")}) |");
        }
        return sb.ToString();
    }

    public static string Completions(JsonArray rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| file, cut after | the file goes on | pretrained | full FT | LoRA |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var row in rows)
        {
            var o = row!.AsObject();
            sb.AppendLine($"| `{o["path"]}`: `{Cell((string)o["header"]!)}` | `{Cell((string)o["truth"]!)}` | `{Cell((string?)o["pretrained"])}` | " +
                $"`{Cell((string?)o["full FT"])}` | `{Cell((string?)o["LoRA"])}` |");
        }
        return sb.ToString();
    }

    /// <summary>One table cell: newlines shown as ⏎, pipes escaped, first 60 characters.</summary>
    private static string Cell(string? text)
    {
        text ??= "";
        if (text.Length > 60) text = text[..60] + "…";
        return text.Replace("\n", "⏎").Replace("|", "\\|").Replace("`", "'");
    }
}
