using CodeLm.Common.Completion;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Tasks;

/// <summary>
/// Infilling tasks derived from problems with canonical solutions, as in the InCoder and SantaCoder papers: every
/// non-blank line of a solution masked in turn (single-line), or every span of two or more lines that starts and ends
/// on a non-blank line (multi-line). The cursor sits on the emptied line, as a user's would; the canonical answer is the
/// masked text, so scoring canonical answers checks the derivation.
/// </summary>
public static class InfillTasks
{
    public static IReadOnlyList<Problem> Derive(IEnumerable<Problem> problems, EvalTask task)
    {
        if (task is not (EvalTask.InfillSingle or EvalTask.InfillMulti)) throw new ArgumentOutOfRangeException(nameof(task));
        var result = new List<Problem>();
        foreach (var p in problems)
        {
            var lines = SplitLines(p.CanonicalSolution);
            var spans = task == EvalTask.InfillSingle
                ? Enumerable.Range(0, lines.Count).Where(i => !Blank(lines[i])).Select(i => (i, i))
                : from i in Enumerable.Range(0, lines.Count) where !Blank(lines[i])
                  from j in Enumerable.Range(i + 1, lines.Count - i - 1) where !Blank(lines[j])
                  select (i, j);
            foreach (var (first, last) in spans)
                result.Add(Mask(p, lines, first, last, task == EvalTask.InfillSingle ? CompletionMode.Line : CompletionMode.Block));
        }
        return result;
    }

    // Prompt: everything up to the masked lines; answer: the masked lines without their last newline; suffix: that
    // newline and the rest. Prompt + answer + suffix is the original program.
    private static Problem Mask(Problem p, List<string> lines, int first, int last, CompletionMode mode)
    {
        var before = string.Concat(lines.Take(first));
        var middle = string.Concat(lines.Skip(first).Take(last - first + 1));
        var after = string.Concat(lines.Skip(last + 1));
        var answer = middle.EndsWith('\n') ? middle[..^1] : middle;
        var suffix = middle[answer.Length..] + after;
        var id = first == last ? $"{p.TaskId}/line-{first}" : $"{p.TaskId}/lines-{first}-{last}";
        return p with { TaskId = id, Prompt = p.Prompt + before, CanonicalSolution = answer, Infill = new InfillSite(suffix, mode) };
    }

    // Lines with their newlines, so they concatenate back to the text.
    private static List<string> SplitLines(string text)
    {
        var lines = new List<string>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
            if (text[i] == '\n') { lines.Add(text[start..(i + 1)]); start = i + 1; }
        if (start < text.Length) lines.Add(text[start..]);
        return lines;
    }

    private static bool Blank(string line) => string.IsNullOrWhiteSpace(line);
}
