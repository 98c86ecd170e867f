using System.CommandLine;
using CodeLm.Model.Native;
using CodeLm.Pipeline;

namespace CodeLm.Cli;

public static class QuickstartCommand
{
    private static readonly string[] Stages = ["corpus", "tokenizer", "shards", "train", "sample", "eval"];

    public static Command Create()
    {
        var defaults = new QuickstartOptions();
        var workDir = new Option<string>("--work-dir") { Description = "Where every stage writes its output; rerunning reuses finished stages.", DefaultValueFactory = _ => defaults.WorkDir };
        var sources = new Option<string[]>("--source") { Description = "A repository to crawl (path or URL, optional #branch-or-commit); repeatable. Default: the CodeLm repository you are in.", AllowMultipleArgumentsPerToken = false };
        var steps = new Option<int>("--steps") { Description = "Training steps.", DefaultValueFactory = _ => defaults.Steps };
        var preset = new Option<string>("--preset") { Description = "Model preset: tiny, small, gpt2-124m, 350m.", DefaultValueFactory = _ => defaults.Preset };
        var vocab = new Option<int>("--vocab-size") { Description = "Tokenizer vocabulary (small by default: the default corpus is one repository).", DefaultValueFactory = _ => defaults.VocabSize };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per training step.", DefaultValueFactory = _ => defaults.BatchSize };
        var seqLen = new Option<int?>("--seq-len") { Description = "Training window in tokens (default: the preset's context)." };
        var evalSamples = new Option<int>("--eval-samples") { Description = "Samples per built-in eval problem.", DefaultValueFactory = _ => defaults.EvalSamples };
        var evalTokens = new Option<int>("--eval-max-new-tokens") { Description = "Most tokens generated per eval sample.", DefaultValueFactory = _ => defaults.EvalMaxNewTokens };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => defaults.Device };
        var fresh = new Option<bool>("--fresh") { Description = "Delete the work directory and start over." };
        var cmd = new Command("quickstart", "Run the whole pipeline offline on a small default: corpus, tokenizer, model, eval, and how to serve it.")
        {
            workDir, sources, steps, preset, vocab, lr, batch, seqLen, evalSamples, evalTokens, device, fresh,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var options = new QuickstartOptions
            {
                WorkDir = parse.GetValue(workDir)!, Sources = parse.GetValue(sources) ?? [], Steps = parse.GetValue(steps),
                Preset = parse.GetValue(preset)!, VocabSize = parse.GetValue(vocab), LearningRate = parse.GetValue(lr), BatchSize = parse.GetValue(batch),
                SequenceLength = parse.GetValue(seqLen), EvalSamples = parse.GetValue(evalSamples), EvalMaxNewTokens = parse.GetValue(evalTokens), Device = parse.GetValue(device)!,
                Fresh = parse.GetValue(fresh),
            };
            var runtime = Devices.Resolve(options.Device);
            Console.Error.WriteLine($"codelm quickstart: work dir {Path.GetFullPath(options.WorkDir)}, device {runtime.type}, TorchSharp native glue: {TorchNativeLoader.Mode}");

            // In a log: stage changes and every tenth of a stage.
            string? last = null;
            var results = await CliProgress.RunAsync(bars => Quickstart.RunAsync(options, bars.For<QuickstartEvent>(e =>
                new(e.Stage, bars.ShowsBars ? $"{e.Stage,-9} {Truncate(e.Message, 70)}" : e.Message, e.Fraction ?? 0, e.Fraction is null ? 0 : 1,
                    Done: e.Message is "done" or "reused from the previous run")), ct),
                plain: u =>
                {
                    var key = u.Phase + (u.Max > 0 ? ((int)(u.Value * 10)).ToString() : u.Label);
                    if (key == last) return null;
                    last = key;
                    return $"[{u.Phase}] {u.Label}";
                }, phases: Stages);
            Console.WriteLine(QuickstartReport.Render(options, results));
            Console.WriteLine($"report: {Path.GetFullPath(options.ReportPath)}");
            return 0;
        });
        return cmd;
    }

    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";
}
