using System.Globalization;
using System.Text.Json.Nodes;
using CodeLm.Bench.Finetune;
using CodeLm.Model.Native;

NativeAllocator.ReexecuteTuned(); // as `codelm` does, for the in-process loss evaluation

// Usage (stages run in order; each skips what an earlier invocation finished, `all` runs them one after another):
//   dotnet bench/finetune/bin/Release/net10.0/CodeLm.Bench.Finetune.dll <stage> WORK [options]
//   stages: prepare | pretrain | finetune | report | complete | all
//   options: --corpus DIR (default ../shared/corpus next to the checkout)  --codelm PATH (a copy of Cli's Release build)
//            --holdout requests  --split-seed 4  --holdout-validation 0.2  --vocab 8192  --preset llama-tiny
//            --batch 8  --seq 256  --threads 1  --pretrain-steps 2000  --pretrain-lr 1e-3  --steps 300 (fine-tuning)
//            --full-lr 3e-4  --lora-lr 2e-3  --files 5  --max-new-tokens 24
//   loss --checkpoint DIR --shards DIR [--split validation]: one model's loss over a whole split (no WORK)
var a = args.ToList();
string Opt(string name, string fallback) => a.IndexOf(name) is var i and >= 0 && i + 1 < a.Count ? a[i + 1] : fallback;
int Int(string name, int fallback) => int.Parse(Opt(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
TorchNativeLoader.EnsureLoaded(); // the libstdc++ workaround (docs/torchsharp-native.md) before the first torch call
TorchSharp.torch.set_num_threads(Int("--threads", 1));

if (a.Count >= 1 && a[0] == "loss")
{
    var r = HeldOutLoss.Evaluate(Opt("--checkpoint", ""), Opt("--shards", ""), Opt("--split", "validation"));
    Console.WriteLine($"loss {r.Loss:F4} nats over {r.Targets:N0} targets in {r.Windows} windows");
    foreach (var (lang, (loss, n)) in r.ByLanguage.OrderByDescending(kv => kv.Value.Targets)) Console.WriteLine($"  {lang,-18} {loss:F4} ({n:N0})");
    return 0;
}
if (a.Count < 2) { Console.Error.WriteLine("usage: <prepare|pretrain|finetune|report|complete|all> WORK [options] | loss --checkpoint DIR --shards DIR"); return 2; }

var root = FindRoot();
var s = new FineTuneSettings
{
    Work = Path.GetFullPath(a[1]),
    Corpus = Path.GetFullPath(Opt("--corpus", Path.Combine(root, "..", "shared", "corpus"))),
    Codelm = new CodelmCli(CodelmCli.Find(root, a.Contains("--codelm") ? Opt("--codelm", "") : null)),
    Holdout = Opt("--holdout", "requests"),
    SplitSeed = Int("--split-seed", 4),
    HoldoutValidation = Opt("--holdout-validation", "0.2"),
    Vocab = Int("--vocab", 8192),
    Preset = Opt("--preset", "llama-tiny"),
    Batch = Int("--batch", 8),
    Seq = Int("--seq", 256),
    Threads = Int("--threads", 1),
    PretrainSteps = Int("--pretrain-steps", 2000),
    PretrainLr = Opt("--pretrain-lr", "1e-3"),
    FinetuneSteps = Int("--steps", 300),
    FullLr = Opt("--full-lr", "3e-4"),
    LoraLr = Opt("--lora-lr", "2e-3"),
};
Directory.CreateDirectory(s.Work);
var stage = a[0];
if (stage is "prepare" or "all") FineTuneBench.Prepare(s);
if (stage is "pretrain" or "all") FineTuneBench.PretrainRun(s);
if (stage is "finetune" or "all") FineTuneBench.FineTune(s);
if (stage is "report" or "all") Console.WriteLine(Markdown.Losses(FineTuneBench.Report(s)));
if (stage is "complete" or "all") Console.WriteLine(Markdown.Completions(GreedyCompletions.Run(s, Int("--files", 5), Int("--max-new-tokens", 24))));
if (stage is not ("prepare" or "pretrain" or "finetune" or "report" or "complete" or "all")) { Console.Error.WriteLine($"unknown stage '{stage}'"); return 2; }
return 0;

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "CodeLm.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
