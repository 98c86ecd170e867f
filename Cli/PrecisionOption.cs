using System.CommandLine;
using CodeLm.Model.Inference;

namespace CodeLm.Cli;

/// <summary>`--precision`, the one spelling of <see cref="InferencePrecision"/> for every command that runs a model (serve, sample, eval run).</summary>
public static class PrecisionOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--precision")
        {
            Description = "Weights on the CPU: auto (int8 decoding steps where a vector kernel runs, bfloat16 prompts where " +
                "measured faster at load; a GPU keeps float32), int8 (int8 steps, float32 prompts) or float32. Int8 reads a " +
                "quarter of the bytes per token, which is what bounds CPU decoding.",
            DefaultValueFactory = _ => "auto",
        };
        option.AcceptOnlyFromAmong("auto", "int8", "float32");
        return option;
    }

    public static InferencePrecision Value(ParseResult parse, Option<string> option) => InferencePrecisions.Parse(parse.GetValue(option)!);
}
