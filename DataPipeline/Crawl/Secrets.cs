namespace CodeLm.DataPipeline.Crawl;

/// <summary>Keeps credentials out of everything printed or written: URLs lose their user-info, and known secret values are masked.</summary>
public static class Secrets
{
    /// <summary>The environment variable that holds a token for private HTTPS repositories.</summary>
    public const string DefaultTokenVariable = "CODELM_GIT_TOKEN";
    /// <summary>Optional user name sent with the token (GitHub accepts any; GitLab wants "oauth2").</summary>
    public const string UserVariable = "CODELM_GIT_USER";

    public static string StripUserInfo(string location)
    {
        int scheme = location.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return location;
        int start = scheme + 3;
        int slash = location.IndexOf('/', start);
        int end = slash < 0 ? location.Length : slash;
        int at = location.LastIndexOf('@', end - 1, end - start);
        return at < 0 ? location : location[..start] + location[(at + 1)..];
    }

    /// <summary>Masks every secret value and strips URL user-info inside a message (e.g. a libgit2 error).</summary>
    public static string Scrub(string message, IEnumerable<string?> secrets)
    {
        foreach (var s in secrets)
            if (!string.IsNullOrEmpty(s)) message = message.Replace(s, "***", StringComparison.Ordinal);
        // user:pass@host inside URLs in free text
        int i = 0;
        while ((i = message.IndexOf("://", i, StringComparison.Ordinal)) >= 0)
        {
            int start = i + 3;
            int end = start;
            while (end < message.Length && !char.IsWhiteSpace(message[end]) && message[end] is not ('/' or '\'' or '"')) end++;
            int at = message.LastIndexOf('@', Math.Max(start, end - 1), Math.Max(0, end - start));
            if (at >= start) message = message[..start] + message[(at + 1)..];
            i = start;
        }
        return message;
    }
}
