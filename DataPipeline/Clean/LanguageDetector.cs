using CodeLm.Common;

namespace CodeLm.DataPipeline.Clean;

/// <summary>
/// Names a file's language by well-known file name, then extension, then shebang line, from <see cref="LanguageTable"/>.
/// Returns null for files in no known language; those are not part of the corpus.
/// </summary>
public static class LanguageDetector
{
    /// <summary>The language by path alone (name and extension), or null when the extension is unknown or missing.</summary>
    public static string? FromPath(string path)
    {
        var name = Path.GetFileName(path);
        if (LanguageTable.FromFileName(name) is { } byName) return byName.Name;
        if (name.StartsWith("Dockerfile.", StringComparison.Ordinal)) return "Dockerfile";
        var ext = Path.GetExtension(name);
        return ext.Length > 1 ? LanguageTable.FromExtension(ext)?.Name : null;
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
        foreach (var (interp, language) in LanguageTable.Interpreters)
            if (exe.StartsWith(interp, StringComparison.Ordinal)) return language.Name;
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
