using CodeLm.Common;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Tasks;

/// <summary>
/// HumanEval-X translation: for each problem present in both languages (matched by the number in the task id), the model
/// reads the source language's declaration and canonical solution, then the target's declaration, laid out by
/// <see cref="TranslationPrompt"/>, and continues it; the target's tests judge the result. The source's docstring is left out, as in
/// HumanEval-X, so the code has to be translated rather than rewritten from the description.
/// </summary>
public static class TranslationTasks
{
    public static IReadOnlyList<Problem> Pair(IReadOnlyList<Problem> source, IReadOnlyList<Problem> target)
    {
        var byNumber = source.Where(p => Number(p.TaskId) is not null).ToDictionary(p => Number(p.TaskId)!);
        var result = new List<Problem>();
        foreach (var t in target)
        {
            if (Number(t.TaskId) is not { } n || !byNumber.TryGetValue(n, out var s)) continue;
            var declaration = t.Declaration ?? t.Prompt;
            result.Add(t with
            {
                Prompt = declaration,
                ModelPrompt = TranslationPrompt.Build(s.Language, (s.Declaration ?? s.Prompt) + s.CanonicalSolution, t.Language, declaration),
            });
        }
        return result;
    }

    private static string? Number(string taskId) => taskId.LastIndexOf('/') is var i and >= 0 ? taskId[(i + 1)..] : null;
}
