using System.Text;

namespace CodeLm.DataPipeline.Crawl;

/// <summary>
/// Names a repository's license as an SPDX id from its LICENSE / LICENCE / COPYING / UNLICENSE files. Several different
/// licenses (e.g. LICENSE-MIT and UNLICENSE) give an "A OR B" expression; nothing recognizable gives "unknown".
/// </summary>
public static class LicenseDetector
{
    public const string Unknown = "unknown";

    /// <summary>True for file names that hold a license text.</summary>
    public static bool IsLicenseFileName(string name)
    {
        var n = name.ToLowerInvariant();
        return n.StartsWith("license") || n.StartsWith("licence") || n.StartsWith("copying") || n.StartsWith("unlicense");
    }

    /// <summary>Combines the licenses found in several files.</summary>
    public static string Combine(IEnumerable<string> ids)
    {
        var found = ids.Where(i => i != Unknown).SelectMany(i => i.Split(" OR ")).Distinct().Order(StringComparer.Ordinal).ToList();
        return found.Count == 0 ? Unknown : string.Join(" OR ", found);
    }

    /// <summary>The SPDX id of one license text.</summary>
    public static string Classify(string text)
    {
        var t = Normalize(text);
        int spdx = t.IndexOf("spdx-license-identifier:", StringComparison.Ordinal);
        if (spdx >= 0)
        {
            var rest = text.AsSpan(text.IndexOf("SPDX-License-Identifier:", StringComparison.OrdinalIgnoreCase) + 24).TrimStart();
            int end = rest.IndexOfAny('\n', '\r', '*');
            var id = (end < 0 ? rest : rest[..end]).Trim().ToString();
            if (id.Length > 0) return id;
        }
        if (t.Contains("gnu lesser general public license") || t.Contains("gnu library general public license"))
            return t.Contains("version 3") ? "LGPL-3.0" : t.Contains("version 2.1") ? "LGPL-2.1" : "LGPL-2.0";
        if (t.Contains("gnu affero general public license")) return "AGPL-3.0";
        if (t.Contains("gnu general public license"))
            return t.Contains("version 3") ? "GPL-3.0" : t.Contains("version 2") ? "GPL-2.0" : "GPL-1.0";
        if (t.Contains("apache license") && (t.Contains("version 2.0") || t.Contains("apache-2.0"))) return "Apache-2.0";
        if (t.Contains("mozilla public license") && (t.Contains("version 2.0") || t.Contains("v. 2.0") || t.Contains("mpl-2.0"))) return "MPL-2.0";
        if (t.Contains("this is free and unencumbered software released into the public domain")) return "Unlicense";
        if (t.Contains("cc0 1.0 universal")) return "CC0-1.0";
        if (t.Contains("boost software license")) return "BSL-1.0";
        if (t.Contains("permission is hereby granted, free of charge, to any person obtaining a copy")) return "MIT";
        if (t.Contains("permission to use, copy, modify, and/or distribute this software for any purpose")) return "ISC";
        if (t.Contains("redistribution and use in source and binary forms"))
            return t.Contains("neither the name") || t.Contains("names of its contributors") || t.Contains("name of the copyright holder")
                ? "BSD-3-Clause" : "BSD-2-Clause";
        if (t.Contains("the mit license") || t.Contains("mit license")) return "MIT";
        return Unknown;
    }

    private static string Normalize(string text)
    {
        var sb = new StringBuilder(Math.Min(text.Length, 200_000));
        bool space = false;
        foreach (var ch in text.AsSpan(0, Math.Min(text.Length, 200_000)))
        {
            if (char.IsWhiteSpace(ch) || ch is '*' or '#') { space = sb.Length > 0; continue; }
            if (space) { sb.Append(' '); space = false; }
            sb.Append(char.ToLowerInvariant(ch));
        }
        return sb.ToString();
    }
}
