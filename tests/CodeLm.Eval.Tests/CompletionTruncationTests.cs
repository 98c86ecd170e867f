using CodeLm.Eval.Generation;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Tests;

public sealed class CompletionTruncationTests
{
    [Fact]
    public void Python_cuts_at_the_first_line_back_at_column_zero()
    {
        var prompt = "def f(x):\n    \"\"\"doc\"\"\"\n";
        var raw = "    y = x + 1\n\n    return y\n\nassert f(1) == 2\ndef g():\n    pass\n";
        Assert.Equal("    y = x + 1\n\n    return y\n", CompletionTruncation.Truncate(EvalLanguages.Python, prompt, raw));
        Assert.Equal("    return 1\n", CompletionTruncation.Truncate(EvalLanguages.Python, prompt, "    return 1\n"));
        // A completion that continues the prompt's last line keeps that line even when it has no indentation.
        Assert.Equal("(x):\n    return x\n", CompletionTruncation.Truncate(EvalLanguages.Python, "def f", "(x):\n    return x\nprint(1)"));
    }

    [Fact]
    public void Brace_languages_cut_where_the_prompt_braces_close_ignoring_braces_in_strings_and_comments()
    {
        var prompt = "int f(int x) {\n";
        var raw = "    const char* s = \"}}\"; char c = '}';\n    // } not this one\n    /* nor } this */\n    if (x) { return 1; }\n    return 0;\n}\nint main() { return f(1); }\n";
        var cut = CompletionTruncation.Truncate(EvalLanguages.Cpp, prompt, raw);
        Assert.EndsWith("    return 0;\n}\n", cut);
        Assert.DoesNotContain("main", cut);
    }

    [Fact]
    public void Java_closes_method_and_class_and_missing_braces_are_appended()
    {
        var prompt = "import java.util.*;\nclass Solution {\n    public int f(int x) {\n";
        Assert.Equal("        return x;\n    }\n}\n",
            CompletionTruncation.Truncate(EvalLanguages.Java, prompt, "        return x;\n    }\n}\npublic class Main {}\n"));
        // Generation stopped at "\n}" (trimmed): both braces are missing and get appended.
        Assert.Equal("        return x;\n    }\n}\n", CompletionTruncation.Truncate(EvalLanguages.Java, prompt, "        return x;\n    }"));
        Assert.Equal("  return `${a}}`;\n}\n", CompletionTruncation.Truncate(EvalLanguages.JavaScript, "const f = (a) => {\n", "  return `${a}}`;\n}\nf(1);\n"));
    }

    [Fact]
    public void Stop_sequences_follow_Codex_for_Python_and_end_of_function_for_brace_languages()
    {
        Assert.Equal(["\ndef ", "\nclass ", "\nif ", "\nprint", "\n#"], StopSequences.For(EvalLanguages.Python));
        foreach (var lang in new[] { EvalLanguages.Cpp, EvalLanguages.Java, EvalLanguages.CSharp, EvalLanguages.JavaScript, EvalLanguages.Go, EvalLanguages.Rust })
            Assert.Contains("\n}", StopSequences.For(lang));
    }
}
