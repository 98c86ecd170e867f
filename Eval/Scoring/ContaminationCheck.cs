using CodeLm.Common;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Scoring;

public enum ContaminationStatus
{
    /// <summary>The checkpoint's corpus was decontaminated against this very benchmark file.</summary>
    Removed,
    /// <summary>The checkpoint records its corpus, and this benchmark was not removed from it: scores may be inflated.</summary>
    NotRemoved,
    /// <summary>The checkpoint does not record its training data (trained elsewhere, or a Hugging Face folder).</summary>
    Unknown,
}

/// <summary>What a checkpoint's training_data.json says about one benchmark, in a line for the report.</summary>
public sealed record ContaminationCheck(ContaminationStatus Status, string Benchmark, string Line)
{
    /// <summary>
    /// Checks every problem file behind <paramref name="problemsPath"/> (a file, "builtin", or a HumanEval-X directory)
    /// against the training-data record in <paramref name="checkpointDir"/>, a resolved checkpoint directory.
    /// </summary>
    public static IReadOnlyList<ContaminationCheck> For(string checkpointDir, string problemsPath)
    {
        var record = TrainingDataRecord.Load(checkpointDir);
        return Files(problemsPath).Select(file => Check(record, file)).ToList();
    }

    private static ContaminationCheck Check(TrainingDataRecord? record, string file)
    {
        var name = file == ProblemSet.BuiltinName ? file : Path.GetFileName(file);
        if (record == null)
            return new(ContaminationStatus.Unknown, name, $"contamination: unknown for {name}: the checkpoint does not record its training corpus");
        if (record.Decontamination?.Find(ProblemSet.Sha256(file)) is { } b)
            return new(ContaminationStatus.Removed, name, $"contamination: {name} was removed from the training corpus ({b.DroppedFiles} files dropped)");
        var removed = record.Decontamination is { Benchmarks.Count: > 0 } d ? "only " + string.Join(", ", d.Benchmarks.Select(x => x.Name)) : "nothing";
        return new(ContaminationStatus.NotRemoved, name,
            $"WARNING: the training corpus was not decontaminated against {name} ({removed} was removed), so it may contain these " +
            $"problems and their solutions and the scores below may be inflated; rebuild it with `codelm data build --decontaminate {(file == ProblemSet.BuiltinName ? "<problem file>" : file)}`");
    }

    private static IEnumerable<string> Files(string problemsPath) =>
        Directory.Exists(problemsPath)
            ? ProblemFiles.InDirectory(problemsPath)
            : [problemsPath];
}
