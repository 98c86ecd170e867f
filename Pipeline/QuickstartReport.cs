using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.Tokenizer;

namespace CodeLm.Pipeline;

/// <summary>The report a person reads at the end: corpus, tokenizer, training, samples, eval, and what to do next.</summary>
public static class QuickstartReport
{
    public static string Render(QuickstartOptions o, IReadOnlyList<StageResult> stages)
    {
        JsonObject D(string name) => stages.First(s => s.Name == name).Details;
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine("# CodeLm quickstart report").AppendLine();
        sb.AppendLine("| stage | status | seconds |").AppendLine("|---|---|---|");
        foreach (var s in stages)
            sb.AppendLine(inv, $"| {s.Name} | {(s.Reused ? "reused" : "ran")} | {s.Seconds:F1} |");

        var c = D("corpus");
        sb.AppendLine().AppendLine("## Corpus").AppendLine();
        sb.AppendLine(inv, $"{c["repos"]} repositories, {c["files_kept"]} of {c["files_in"]} files kept ({(long)c["bytes_kept"]! / 1024} KiB); " +
                           $"{c["exact_duplicates"]} exact and {c["near_duplicates"]} near duplicates removed; {c["redactions"]} redactions.");
        sb.AppendLine().AppendLine("Files by language: " + string.Join(", ", (c["languages"] as JsonObject ?? []).Select(kv => $"{kv.Key} {kv.Value}")));

        var t = D("tokenizer");
        var sh = D("shards");
        sb.AppendLine().AppendLine("## Tokenizer and shards").AppendLine();
        sb.AppendLine(inv, $"Byte-level BPE, {t["vocab"]} tokens ({t["merges"]} merges), tokenizer {t["hash"]}. " +
                           $"Shards: {sh["train_tokens"]} train and {sh["validation_tokens"]} validation tokens ({sh["token_type"]}).");

        var tr = D("train");
        sb.AppendLine().AppendLine("## Training").AppendLine();
        sb.AppendLine(inv, $"Preset `{tr["preset"]}`, {(long)tr["parameters"]! / 1e6:F2}M parameters, {tr["steps"]} steps, " +
                           $"final train loss {Num(tr["final_loss"])}, best validation loss {Num(tr["best_val_loss"])} (step {tr["best_step"]}), " +
                           $"{tr["tokens_per_second"]} tokens/s.");
        sb.AppendLine().AppendLine(inv, $"Loss curve: `{tr["loss_curve"]}`. Checkpoint: `{tr["checkpoint"]}`.");

        sb.AppendLine().AppendLine("## Sample completions").AppendLine();
        foreach (var s in D("sample")["samples"]!.AsArray())
        {
            var mode = s!["suffix"] is null ? "completion" : "fill-in-the-middle";
            sb.AppendLine(inv, $"{s["language"]}, {mode} ({s["finish"]}):").AppendLine("```");
            sb.Append(s["prefix"]!.GetValue<string>()).Append("⟨").Append(s["completion"]!.GetValue<string>()).Append('⟩');
            if (s["suffix"] is { } suffix) sb.Append(suffix.GetValue<string>());
            sb.AppendLine().AppendLine("```");
        }

        sb.AppendLine().AppendLine("## Evaluation (built-in problems)").AppendLine();
        var summary = D("eval")["summary"]!;
        var ks = summary["requested_k"]!.AsArray().Select(k => k!.GetValue<int>()).Distinct().Order().ToList();
        sb.AppendLine("| language | problems | samples | " + string.Join(" | ", ks.Select(k => $"pass@{k}")) + " |");
        sb.AppendLine("|---|---|---|" + string.Concat(ks.Select(_ => "---|")));
        foreach (var row in summary["languages"]!.AsArray())
        {
            var pass = row!["pass_at_k"] as JsonObject ?? [];
            var cells = string.Join(" | ", ks.Select(k => pass[$"pass@{k}"] is { } v ? Num(v) : "-"));
            sb.AppendLine(inv, $"| {row["language"]} | {row["problems"]} | {row["samples"]} | {cells} |");
        }
        sb.AppendLine().AppendLine("A model trained for minutes on one repository is not expected to pass these; the numbers show the harness end to end.");

        var checkpoint = tr["checkpoint"]!.GetValue<string>();
        sb.AppendLine().AppendLine("## Next").AppendLine();
        sb.AppendLine(inv, $"- Complete code: `codelm sample --checkpoint {checkpoint} --prompt \"def add(a, b):\"`");
        sb.AppendLine(inv, $"- Serve your editor: `codelm serve --checkpoint {checkpoint}`");
        sb.AppendLine("- VS Code: `cd vscode-extension && npm ci && npm run package`, install `dist/codelm.vsix`, then set `codelm.serverPath` and " +
                      $"`codelm.checkpointPath` to `{checkpoint}` (see README, \"VS Code extension\").");
        sb.AppendLine("- Train on more code: `codelm quickstart --source <repo> --source <repo> --steps 2000`, or run each stage yourself (README).");
        return sb.ToString();
    }

    public static void Write(QuickstartOptions o, IReadOnlyList<StageResult> stages)
    {
        AtomicFile.WriteAllText(o.ReportPath, Render(o, stages));
    }

    private static string Num(JsonNode? n) => n is null ? "-" : n.GetValue<double>().ToString("0.000", CultureInfo.InvariantCulture);
}
