using System.Text;
using CodeLm.Common;
using CodeLm.DataPipeline.Corpus;
#if !CODELM_DATA_ONLY // the native data command (DataCli) links this file without the model and eval stages
using CodeLm.Eval.Problems;
using CodeLm.Model.Training;
#endif

namespace CodeLm.Cli;

/// <summary>
/// Words the libraries' typed errors in codelm's terms: an options-record property becomes its flag, and advice names
/// the flags that fix it. The libraries never mention flags themselves.
/// </summary>
public static class CliErrors
{
    // Properties whose flag is not simply their kebab-case name (LearningRate → --learning-rate).
    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["LearningRate"] = "--lr", ["MinLearningRate"] = "--min-lr", ["GradAccumulation"] = "--grad-accum", ["WarmupSteps"] = "--warmup",
        ["KeepLast"] = "--keep", ["OutDir"] = "--out", ["SequenceLength"] = "--seq-len", ["Sources"] = "--source",
        ["StopAtStep"] = "--stop-at", ["PeakFlops"] = "--peak-tflops", ["SkipMemoryCheck"] = "--skip-memory-check",
        ["Rank"] = "--lora-rank", ["Alpha"] = "--lora-alpha", ["Dropout"] = "--lora-dropout", ["Targets"] = "--lora-targets",
        ["TrainEmbeddings"] = "--lora-embeddings", ["CollectiveTimeoutSeconds"] = "--collective-timeout", ["Listen"] = "--http",
        ["ApiKey"] = "--api-key-file",
    };

    public static string Describe(Exception e) => e switch
    {
        OptionException o => $"{Flag(o.Option)} {o.Problem}",
        SourceFailuresException f when f.Read > 0 => $"{f.Message}. Fix or remove the failed sources, or pass --allow-failures {f.Failed} to write the corpus without them.",
#if !CODELM_DATA_ONLY
        MemoryBudgetException m => m.Estimate + " Use a smaller --batch-size with more --grad-accum, a shorter --seq-len or a smaller --config" +
                                   " (or --skip-memory-check to try anyway); to fine-tune a model this large, --lora trains a small adapter instead.",
        CodeLm.Model.Distributed.CollectiveTimeoutException t => $"{t.Message} The job has stopped; its last checkpoint is kept: " +
            "launch it again with --resume (on this or another number of ranks with the same global batch), or raise --collective-timeout if a rank is only slow.",
        CodeLm.Model.Distributed.CollectiveAbortedException a => $"{a.Message} The last checkpoint is kept: launch the job again with --resume.",
        UnknownProblemLanguageException u => $"{u.File}:{u.Line}: cannot tell the language of '{u.TaskId}'; pass --language",
#endif
        _ => e.Message,
    };

    public static string Flag(string property)
    {
        if (Flags.TryGetValue(property, out var flag)) return flag;
        var kebab = new StringBuilder("--");
        for (var i = 0; i < property.Length; i++)
        {
            if (char.IsUpper(property[i]) && i > 0) kebab.Append('-');
            kebab.Append(char.ToLowerInvariant(property[i]));
        }
        return kebab.ToString();
    }
}
