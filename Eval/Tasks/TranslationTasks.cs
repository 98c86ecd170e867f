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
            var declaration = TargetStart(t);
            result.Add(t with
            {
                Prompt = declaration,
                ModelPrompt = TranslationPrompt.Build(s.Language, (s.Declaration ?? s.Prompt) + s.CanonicalSolution, t.Language, declaration),
            });
        }
        return result;
    }

    // HumanEval-X's Go declarations leave out helpers the prompt defines (Go/10's IsPalindrome, Go/32's Poly, Go/38's
    // EncodeCyclic, Go/50's EncodeShift), so even the canonical answer would not compile. Where the prompt defines more
    // top-level functions than the declaration, the prompt without its comment lines (the docstring) serves instead.
    private static string TargetStart(Problem t)
    {
        if (t.Declaration is not { } declaration) return t.Prompt;
        var keyword = declaration.Split('\n').Select(l => l.Split(' ')[0]).FirstOrDefault(w => w.Length > 0);
        int Count(string code) => keyword is null ? 0 : code.Split('\n').Count(l => l.StartsWith(keyword + " ", StringComparison.Ordinal));
        if (Count(t.Prompt) <= Count(declaration)) return declaration;
        var comment = (LanguageTable.Find(t.Language)?.Comment.Open ?? "// ").Trim();
        return string.Join('\n', t.Prompt.Split('\n').Where(l => !l.TrimStart().StartsWith(comment, StringComparison.Ordinal)));
    }

    private static string? Number(string taskId) => taskId.LastIndexOf('/') is var i and >= 0 ? taskId[(i + 1)..] : null;
}
