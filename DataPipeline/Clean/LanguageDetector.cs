namespace CodeLm.DataPipeline.Clean;

/// <summary>
/// Names a file's language by well-known file name, then extension, then shebang line. Names are CodeGeeX's display names
/// ("C++", "C#", "Python", ...) plus a few extra formats (Markdown, JSON, YAML, Makefile, Dockerfile, CMake, ...).
/// Returns null for files in no known language; those are not part of the corpus.
/// </summary>
public static class LanguageDetector
{
    /// <summary>CodeGeeX's 23 languages, all of which are detected.</summary>
    public static readonly IReadOnlyList<string> CodeGeeXLanguages =
    [
        "C++", "C", "Python", "Java", "JavaScript", "TypeScript", "Go", "PHP", "HTML", "Rust", "Scala", "Shell", "SQL", "CSS",
        "Kotlin", "Ruby", "TeX", "Lua", "Objective-C", "Fortran", "Pascal", "CUDA", "C#",
    ];

    /// <summary>Languages whose files are mostly data; they get the data-heavy filter.</summary>
    public static bool IsDataFormat(string language) => language is "JSON" or "YAML";

    private static readonly Dictionary<string, string> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Makefile"] = "Makefile", ["GNUmakefile"] = "Makefile", ["makefile"] = "Makefile",
        ["Dockerfile"] = "Dockerfile", ["Containerfile"] = "Dockerfile",
        ["CMakeLists.txt"] = "CMake",
        ["Rakefile"] = "Ruby", ["Gemfile"] = "Ruby", ["Podfile"] = "Ruby", ["Vagrantfile"] = "Ruby",
        ["Jenkinsfile"] = "Groovy", ["BUILD"] = "Starlark", ["WORKSPACE"] = "Starlark",
        [".bashrc"] = "Shell", [".bash_profile"] = "Shell", [".zshrc"] = "Shell", [".profile"] = "Shell",
    };

    private static readonly Dictionary<string, string> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".cpp"] = "C++", [".cc"] = "C++", [".cxx"] = "C++", [".c++"] = "C++", [".hpp"] = "C++", [".hh"] = "C++", [".hxx"] = "C++",
        [".h++"] = "C++", [".ipp"] = "C++", [".tpp"] = "C++", [".inl"] = "C++",
        [".c"] = "C", [".h"] = "C",
        [".py"] = "Python", [".pyw"] = "Python", [".pyi"] = "Python",
        [".java"] = "Java",
        [".js"] = "JavaScript", [".mjs"] = "JavaScript", [".cjs"] = "JavaScript", [".jsx"] = "JavaScript",
        [".ts"] = "TypeScript", [".tsx"] = "TypeScript", [".mts"] = "TypeScript", [".cts"] = "TypeScript",
        [".go"] = "Go",
        [".php"] = "PHP", [".phtml"] = "PHP",
        [".html"] = "HTML", [".htm"] = "HTML", [".xhtml"] = "HTML",
        [".rs"] = "Rust",
        [".scala"] = "Scala", [".sc"] = "Scala",
        [".sh"] = "Shell", [".bash"] = "Shell", [".zsh"] = "Shell", [".ksh"] = "Shell",
        [".sql"] = "SQL",
        [".css"] = "CSS", [".scss"] = "SCSS", [".less"] = "Less",
        [".kt"] = "Kotlin", [".kts"] = "Kotlin",
        [".rb"] = "Ruby", [".rake"] = "Ruby", [".gemspec"] = "Ruby",
        [".tex"] = "TeX", [".sty"] = "TeX", [".cls"] = "TeX", [".bib"] = "TeX",
        [".lua"] = "Lua",
        [".m"] = "Objective-C", [".mm"] = "Objective-C",
        [".f"] = "Fortran", [".for"] = "Fortran", [".f77"] = "Fortran", [".f90"] = "Fortran", [".f95"] = "Fortran",
        [".f03"] = "Fortran", [".f08"] = "Fortran",
        [".pas"] = "Pascal", [".pp"] = "Pascal", [".dpr"] = "Pascal", [".lpr"] = "Pascal",
        [".cu"] = "CUDA", [".cuh"] = "CUDA",
        [".cs"] = "C#", [".csx"] = "C#",
        // Beyond CodeGeeX's set.
        [".md"] = "Markdown", [".markdown"] = "Markdown",
        [".json"] = "JSON", [".yml"] = "YAML", [".yaml"] = "YAML", [".toml"] = "TOML",
        [".xml"] = "XML", [".csproj"] = "XML", [".props"] = "XML", [".targets"] = "XML", [".xaml"] = "XML",
        [".mk"] = "Makefile", [".cmake"] = "CMake", [".dockerfile"] = "Dockerfile",
        [".fs"] = "F#", [".fsx"] = "F#", [".fsi"] = "F#", [".vb"] = "Visual Basic",
        [".swift"] = "Swift", [".dart"] = "Dart", [".r"] = "R", [".pl"] = "Perl", [".pm"] = "Perl",
        [".hs"] = "Haskell", [".jl"] = "Julia", [".ex"] = "Elixir", [".exs"] = "Elixir", [".erl"] = "Erlang",
        [".clj"] = "Clojure", [".ml"] = "OCaml", [".groovy"] = "Groovy", [".gradle"] = "Groovy",
        [".ps1"] = "PowerShell", [".bat"] = "Batchfile", [".cmd"] = "Batchfile", [".proto"] = "Protocol Buffers",
        [".vue"] = "Vue", [".svelte"] = "Svelte", [".zig"] = "Zig", [".nim"] = "Nim",
        [".rst"] = "reStructuredText",
    };

    private static readonly (string Interpreter, string Language)[] Shebangs =
    [
        ("python", "Python"), ("bash", "Shell"), ("zsh", "Shell"), ("ksh", "Shell"), ("dash", "Shell"), ("sh", "Shell"),
        ("node", "JavaScript"), ("deno", "TypeScript"), ("ruby", "Ruby"), ("perl", "Perl"), ("php", "PHP"), ("lua", "Lua"),
    ];

    /// <summary>The language by path alone (name and extension), or null when the extension is unknown or missing.</summary>
    public static string? FromPath(string path)
    {
        var name = Path.GetFileName(path);
        if (ByName.TryGetValue(name, out var lang)) return lang;
        if (name.StartsWith("Dockerfile.", StringComparison.Ordinal)) return "Dockerfile";
        var ext = Path.GetExtension(name);
        return ext.Length > 1 && ByExtension.TryGetValue(ext, out lang) ? lang : null;
    }

    /// <summary>The language of a file from its path and, for files without a known extension, its shebang line.</summary>
    public static string? Detect(string path, ReadOnlySpan<char> content)
    {
        var lang = FromPath(path);
        if (lang == "C") return RefineHeader(path, content);
        if (lang != null) return lang;
        return Path.HasExtension(path) ? null : FromShebang(content);
    }

    /// <summary>Reads `#!/usr/bin/env python3`, `#!/bin/bash -e` and the like.</summary>
    public static string? FromShebang(ReadOnlySpan<char> content)
    {
        if (!content.StartsWith("#!")) return null;
        var nl = content.IndexOf('\n');
        var line = (nl < 0 ? content : content[..nl]).Trim();
        // The interpreter is the last path segment of the first word, or the word after `env` (skipping env flags).
        Span<Range> parts = stackalloc Range[8];
        var words = line[2..].Trim();
        int n = words.Split(parts, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (n == 0) return null;
        var first = words[parts[0]];
        var exe = first[(first.LastIndexOf('/') + 1)..];
        if (exe.SequenceEqual("env"))
        {
            exe = default;
            for (int i = 1; i < n; i++)
                if (!words[parts[i]].StartsWith("-")) { exe = words[parts[i]]; break; }
        }
        foreach (var (interp, language) in Shebangs)
            if (exe.StartsWith(interp, StringComparison.Ordinal)) return language;
        return null;
    }

    /// <summary>A `.h` file is C unless it shows C++ or Objective-C constructs.</summary>
    private static string RefineHeader(string path, ReadOnlySpan<char> content)
    {
        if (!path.EndsWith(".h", StringComparison.OrdinalIgnoreCase)) return "C";
        var head = content[..Math.Min(content.Length, 16_384)];
        if (head.Contains("@interface", StringComparison.Ordinal) || head.Contains("#import ", StringComparison.Ordinal)) return "Objective-C";
        if (head.Contains("namespace ", StringComparison.Ordinal) || head.Contains("template <", StringComparison.Ordinal) ||
            head.Contains("template<", StringComparison.Ordinal) || head.Contains("std::", StringComparison.Ordinal) ||
            head.Contains("class ", StringComparison.Ordinal) && head.Contains("public:", StringComparison.Ordinal))
            return "C++";
        return "C";
    }
}
