namespace CodeLm.Eval.Tasks;

/// <summary>
/// What is asked of the model. Generate: complete a function from its signature and docstring (HumanEval, HumanEval-X).
/// Translate: write the target language's function given the source language's solution and the target's declaration
/// (HumanEval-X translation). InfillSingle / InfillMulti: fill one masked line, or a masked span of lines, of a canonical
/// solution from the code around it (InCoder's and SantaCoder's HumanEval infilling), shaped as the editor shapes it.
/// </summary>
public enum EvalTask { Generate, Translate, InfillSingle, InfillMulti }

public static class EvalTasks
{
    /// <summary>The names commands and files use: generate, translate, infill-single, infill-multi.</summary>
    public static string Name(EvalTask task) => task switch
    {
        EvalTask.Generate => "generate", EvalTask.Translate => "translate",
        EvalTask.InfillSingle => "infill-single", EvalTask.InfillMulti => "infill-multi",
        _ => throw new ArgumentOutOfRangeException(nameof(task)),
    };

    public static EvalTask? Parse(string name) => Enum.GetValues<EvalTask>().Cast<EvalTask?>().FirstOrDefault(t => Name(t!.Value) == name.Trim().ToLowerInvariant());
}
