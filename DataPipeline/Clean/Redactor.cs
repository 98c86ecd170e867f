using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CodeLm.DataPipeline.Clean;

/// <summary>Kinds of redacted personal data and secrets; the names are the keys of stats.json's "redactions" section.</summary>
public enum RedactionKind { Email, IpAddress, AwsAccessKey, GitHubToken, PrivateKey, Jwt, SlackToken, SecretAssignment }

/// <summary>
/// Replaces emails by <c>&lt;EMAIL&gt;</c>, public IPv4/IPv6 addresses by <c>&lt;IP_ADDRESS&gt;</c> and keys/tokens by <c>&lt;KEY&gt;</c>.
/// Hand-written scanners anchored on cheap vectorized searches ('@', digits, ':', literal token prefixes, secret-ish names)
/// instead of regexes, so there is no backtracking and text without candidates costs one pass of IndexOf.
/// Lookalikes that stay: private/loopback/link-local IPs, dotted version strings, git and content hashes, UUIDs.
/// </summary>
public static class Redactor
{
    public const string EmailPlaceholder = "<EMAIL>", IpPlaceholder = "<IP_ADDRESS>", KeyPlaceholder = "<KEY>";
    public static readonly int KindCount = Enum.GetValues<RedactionKind>().Length;

    public static string KindName(RedactionKind kind) => kind switch
    {
        RedactionKind.Email => "email", RedactionKind.IpAddress => "ip-address", RedactionKind.AwsAccessKey => "aws-access-key",
        RedactionKind.GitHubToken => "github-token", RedactionKind.PrivateKey => "private-key", RedactionKind.Jwt => "jwt",
        RedactionKind.SlackToken => "slack-token", _ => "secret-assignment",
    };

    private readonly record struct Hit(int Start, int Length, RedactionKind Kind);

    private static readonly SearchValues<string> TokenPrefixes = SearchValues.Create(
        ["AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "eyJ", "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-", "-----BEGIN "],
        StringComparison.Ordinal);
    private static readonly SearchValues<string> SecretNames = SearchValues.Create(
        ["key", "secret", "password", "passwd", "pwd", "token", "credential"], StringComparison.OrdinalIgnoreCase);
    private static readonly SearchValues<string> VersionContext = SearchValues.Create(
        ["version", "nuget", "package", "release", "sdk", "==", ">=", "~="], StringComparison.OrdinalIgnoreCase);
    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");
    private static readonly HashSet<string> FileExtensionTlds = new(StringComparer.OrdinalIgnoreCase)
        { "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "ts", "css", "py", "rb", "go", "rs", "cs", "java", "json", "html", "md", "txt" };

    /// <summary>Redacts <paramref name="text"/>; adds per-kind counts to <paramref name="counts"/> (length <see cref="KindCount"/>).</summary>
    public static string Redact(string text, Span<int> counts) => TryRedact(text, counts) ?? text;

    /// <summary>The redacted text, or null when <paramref name="text"/> holds nothing to redact (then no copy is made);
    /// adds per-kind counts to <paramref name="counts"/> (length <see cref="KindCount"/>).</summary>
    public static string? TryRedact(ReadOnlySpan<char> text, Span<int> counts)
    {
        List<Hit>? hits = null;
        ScanTokens(text, ref hits);
        ScanSecretAssignments(text, ref hits);
        ScanEmails(text, ref hits);
        ScanIPv4(text, ref hits);
        ScanIPv6(text, ref hits);
        if (hits == null) return null;

        // One left-to-right pass replaces each hit that does not overlap an earlier one. On equal starts the longer hit goes
        // first, so no part of a secret is left behind. On the same span the lower kind goes first: SecretAssignment, the
        // catch-all for any high-entropy value, is declared last, so a value that is also an email, address or known token
        // is named as such. The order is total because List.Sort is not stable: a tie left to it could go either way.
        hits.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start)
                          : a.Length != b.Length ? b.Length.CompareTo(a.Length)
                          : a.Kind.CompareTo(b.Kind));
        var sb = new StringBuilder(text.Length);
        int pos = 0;
        foreach (var h in hits)
        {
            if (h.Start < pos) continue;
            sb.Append(text.Slice(pos, h.Start - pos)).Append(h.Kind switch
            {
                RedactionKind.Email => EmailPlaceholder,
                RedactionKind.IpAddress => IpPlaceholder,
                _ => KeyPlaceholder,
            });
            counts[(int)h.Kind]++;
            pos = h.Start + h.Length;
        }
        return sb.Append(text[pos..]).ToString();
    }

    private static void Add(ref List<Hit>? hits, int start, int length, RedactionKind kind) => (hits ??= []).Add(new Hit(start, length, kind));

    private static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
    private static bool IsBase64Url(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-';

    private static int RunLength(ReadOnlySpan<char> s, int from, Func<char, bool> ok)
    {
        int i = from;
        while (i < s.Length && ok(s[i])) i++;
        return i - from;
    }

    // ---- Keys and tokens with a literal prefix ----

    private static void ScanTokens(ReadOnlySpan<char> s, ref List<Hit>? hits)
    {
        int pos = 0;
        while (pos < s.Length)
        {
            int rel = s[pos..].IndexOfAny(TokenPrefixes);
            if (rel < 0) return;
            int i = pos + rel;
            pos = i + 1;
            bool boundary = i == 0 || !IsWord(s[i - 1]);
            var at = s[i..];
            if (at.StartsWith("-----BEGIN "))
            {
                int header = at[11..].IndexOf("-----");
                if (header >= 0) header += 11;
                if (header < 0 || !at[..header].EndsWith("PRIVATE KEY", StringComparison.Ordinal)) continue;
                int end = at.IndexOf("-----END ");
                int len = at.Length;
                if (end >= 0)
                {
                    int close = at[(end + 9)..].IndexOf("-----");
                    len = close < 0 ? at.Length : end + 9 + close + 5;
                }
                Add(ref hits, i, len, RedactionKind.PrivateKey);
                pos = i + len;
            }
            else if (!boundary) continue;
            else if (at.StartsWith("AKIA") || at.StartsWith("ASIA"))
            {
                int n = RunLength(s, i + 4, c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c));
                if (n == 16 && (i + 20 == s.Length || !IsWord(s[i + 20]))) { Add(ref hits, i, 20, RedactionKind.AwsAccessKey); pos = i + 20; }
            }
            else if (at.StartsWith("github_pat_"))
            {
                int n = RunLength(s, i + 11, IsWord);
                if (n >= 22) { Add(ref hits, i, 11 + n, RedactionKind.GitHubToken); pos = i + 11 + n; }
            }
            else if (at.StartsWith("gh"))
            {
                int n = RunLength(s, i + 4, char.IsAsciiLetterOrDigit);
                if (n >= 36 && (i + 4 + n == s.Length || s[i + 4 + n] != '_')) { Add(ref hits, i, 4 + n, RedactionKind.GitHubToken); pos = i + 4 + n; }
            }
            else if (at.StartsWith("eyJ"))
            {
                // header.payload.signature, each base64url; header and payload are JSON so they start with "eyJ".
                int a = RunLength(s, i, IsBase64Url);
                if (a < 10 || i + a >= s.Length || s[i + a] != '.') continue;
                int b = RunLength(s, i + a + 1, IsBase64Url);
                if (b < 10 || i + a + 1 + b >= s.Length || s[i + a + 1 + b] != '.') continue;
                int c = RunLength(s, i + a + 2 + b, IsBase64Url);
                if (c < 10) continue;
                int len = a + b + c + 2;
                Add(ref hits, i, len, RedactionKind.Jwt);
                pos = i + len;
            }
            else if (at.StartsWith("xox"))
            {
                int n = RunLength(s, i + 5, c => char.IsAsciiLetterOrDigit(c) || c == '-');
                if (n >= 10 && s.Slice(i + 5, n).ContainsAny(Digits)) { Add(ref hits, i, 5 + n, RedactionKind.SlackToken); pos = i + 5 + n; }
            }
        }
    }

    // ---- High-entropy values assigned to key/secret/password/token names ----

    private static void ScanSecretAssignments(ReadOnlySpan<char> s, ref List<Hit>? hits)
    {
        int pos = 0;
        while (pos < s.Length)
        {
            int rel = s[pos..].IndexOfAny(SecretNames);
            if (rel < 0) return;
            int i = pos + rel;
            int kwLen = KeywordLength(s[i..]);
            pos = i + kwLen;
            if (!IsNameBoundary(s, i, kwLen)) continue;
            // Skip the rest of the name, an optional closing quote, spaces, then an assignment operator.
            int j = i + kwLen;
            while (j < s.Length && (IsWord(s[j]) || s[j] == '-' || s[j] == '.')) j++;
            if (j < s.Length && (s[j] == '"' || s[j] == '\'')) j++;
            if (j < s.Length && s[j] == ']') j++;
            while (j < s.Length && s[j] is ' ' or '\t') j++;
            if (j >= s.Length) return;
            if (s[j] == ':' && j + 1 < s.Length && s[j + 1] == '=') j += 2;
            else if (s[j] == '=' && j + 1 < s.Length && s[j + 1] == '>') j += 2;
            else if (s[j] is '=' or ':') j++;
            else continue;
            if (j < s.Length && s[j] == '=') continue; // `==` is a comparison
            while (j < s.Length && s[j] is ' ' or '\t') j++;
            if (j >= s.Length) return;
            int start, len;
            char q = s[j];
            if (q is '"' or '\'' or '`')
            {
                start = j + 1;
                int close = s[start..].IndexOfAny(q, '\n');
                if (close < 0 || s[start + close] != q) continue;
                len = close;
            }
            else
            {
                start = j;
                len = RunLength(s, j, c => !char.IsWhiteSpace(c) && c is not (',' or ';' or '"' or '\'' or ')' or '(' or '}' or '{' or '[' or ']' or '<' or '>' or '&' or '?'));
                int after = start + len;
                if (after < s.Length && s[after] is '(' or '[' or '.') continue;
                // Unquoted values are usually expressions (`key = value.Item1`, `token: progressToken2`): demand a long token.
                var value = s.Slice(start, len);
                if (len < 16 || value.Contains('.')) continue;
            }
            if (LooksLikeSecret(s.Slice(start, len)))
            {
                Add(ref hits, start, len, RedactionKind.SecretAssignment);
                pos = start + len;
            }
        }
    }

    private static int KeywordLength(ReadOnlySpan<char> at)
    {
        foreach (var k in (ReadOnlySpan<string>)["password", "passwd", "secret", "credential", "token", "key", "pwd"])
            if (at.StartsWith(k, StringComparison.OrdinalIgnoreCase)) return k.Length;
        return 1;
    }

    /// <summary>The keyword is a whole part of an identifier: `api_key`, `apiKey`, `SECRET`, `tokens`, but not `monkey`.</summary>
    private static bool IsNameBoundary(ReadOnlySpan<char> s, int i, int len)
    {
        bool startOk = i == 0 || !char.IsAsciiLetter(s[i - 1]) || (char.IsAsciiLetterUpper(s[i]) && char.IsAsciiLetterLower(s[i - 1]));
        int e = i + len;
        if (e < s.Length && (s[e] == 's' || s[e] == 'S')) e++;
        bool endOk = e >= s.Length || !char.IsAsciiLetter(s[e]) || (char.IsAsciiLetterUpper(s[e]) && char.IsAsciiLetterLower(s[e - 1]));
        return startOk && endOk;
    }

    /// <summary>At least 8 characters, letters and digits, no spaces, 3.5+ bits of entropy per character; not a hash, UUID or template.</summary>
    public static bool LooksLikeSecret(ReadOnlySpan<char> v)
    {
        if (v.Length < 8 || v.Length > 256) return false;
        bool letter = false, digit = false;
        foreach (var c in v)
        {
            if (char.IsWhiteSpace(c) || c > 127) return false;
            if (char.IsAsciiLetter(c)) letter = true;
            else if (char.IsAsciiDigit(c)) digit = true;
        }
        if (!letter || !digit) return false;
        if ((v.Length == 40 || v.Length == 64) && !v.ContainsAnyExcept("0123456789abcdefABCDEF")) return false; // sha-1 / sha-256
        if (IsUuid(v)) return false;
        if (v.StartsWith("http", StringComparison.OrdinalIgnoreCase) || v[0] is '/' or '.' or '$' or '%' || v.Contains("{{", StringComparison.Ordinal) ||
            v.Contains("${", StringComparison.Ordinal)) return false;
        return Entropy(v) >= 3.5;
    }

    /// <summary>8-4-4-4-12 hex digits.</summary>
    public static bool IsUuid(ReadOnlySpan<char> v)
    {
        if (v.Length != 36) return false;
        for (int i = 0; i < 36; i++)
        {
            bool dash = i is 8 or 13 or 18 or 23;
            if (dash ? v[i] != '-' : !char.IsAsciiHexDigit(v[i])) return false;
        }
        return true;
    }

    public static double Entropy(ReadOnlySpan<char> v)
    {
        Span<int> freq = stackalloc int[128];
        foreach (var c in v) freq[c & 127]++;
        double h = 0;
        foreach (var f in freq)
            if (f > 0) { double p = (double)f / v.Length; h -= p * Math.Log2(p); }
        return h;
    }

    // ---- Emails ----

    private static bool IsLocalPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '%' or '+' or '-';
    private static bool IsDomain(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-';

    private static void ScanEmails(ReadOnlySpan<char> s, ref List<Hit>? hits)
    {
        int pos = 0;
        while (pos < s.Length)
        {
            int rel = s[pos..].IndexOf('@');
            if (rel < 0) return;
            int at = pos + rel;
            pos = at + 1;
            int l = at;
            while (l > 0 && IsLocalPart(s[l - 1])) l--;
            while (l < at && s[l] == '.') l++;
            int r = at + 1;
            while (r < s.Length && IsDomain(s[r])) r++;
            while (r > at + 1 && (s[r - 1] == '.' || s[r - 1] == '-')) r--;
            if (l == at || r == at + 1) continue;
            var domain = s[(at + 1)..r];
            int dot = domain.LastIndexOf('.');
            if (dot <= 0) continue;
            var tld = domain[(dot + 1)..];
            if (tld.Length < 2 || tld.ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")) continue;
            if (FileExtensionTlds.Contains(tld.ToString())) continue;
            if (s[l..at].SequenceEqual("git")) continue; // git@github.com:owner/repo is an ssh address, not a person
            Add(ref hits, l, r - l, RedactionKind.Email);
            pos = r;
        }
    }

    // ---- IPv4 ----

    private static void ScanIPv4(ReadOnlySpan<char> s, ref List<Hit>? hits)
    {
        int pos = 0;
        Span<int> octets = stackalloc int[4];
        while (pos < s.Length)
        {
            int rel = s[pos..].IndexOfAny(Digits);
            if (rel < 0) return;
            int i = pos + rel;
            int skip = RunLength(s, i, char.IsAsciiDigit);
            pos = i + skip;
            if (i > 0 && (IsWord(s[i - 1]) || s[i - 1] == '.')) continue;
            int j = i;
            bool ok = true;
            for (int k = 0; k < 4 && ok; k++)
            {
                int n = RunLength(s, j, char.IsAsciiDigit);
                if (n is 0 or > 3) { ok = false; break; }
                octets[k] = int.Parse(s.Slice(j, n));
                if (octets[k] > 255) ok = false;
                j += n;
                if (k < 3) { if (j < s.Length && s[j] == '.') j++; else ok = false; }
            }
            if (!ok) continue;
            // A fifth part, a trailing word character or a "version" on the line makes it a version string.
            if (j < s.Length && (IsWord(s[j]) || (s[j] == '.' && j + 1 < s.Length && char.IsAsciiDigit(s[j + 1])))) { pos = j; continue; }
            if (i > 0 && s[i - 1] == '/' && (i < 2 || s[i - 2] != '/')) { pos = j; continue; } // a path segment: pkgs/1.9.0.10/
            if (LineAround(s, i).IndexOfAny(VersionContext) >= 0) { pos = j; continue; }
            pos = j;
            if (IsPublicIPv4(octets)) Add(ref hits, i, j - i, RedactionKind.IpAddress);
        }
    }

    private static ReadOnlySpan<char> LineAround(ReadOnlySpan<char> s, int i)
    {
        int a = s[..i].LastIndexOf('\n') + 1;
        int b = s[i..].IndexOf('\n');
        return s[a..(b < 0 ? s.Length : i + b)];
    }

    public static bool IsPublicIPv4(ReadOnlySpan<int> o) => !(
        o[0] == 10 || o[0] == 127 || o[0] == 0 || o[0] >= 224 ||
        (o[0] == 172 && o[1] >= 16 && o[1] <= 31) || (o[0] == 192 && o[1] == 168) ||
        (o[0] == 169 && o[1] == 254) || (o[0] == 100 && o[1] >= 64 && o[1] <= 127) || o[0] == 255);

    // ---- IPv6 ----

    private static bool IsV6Char(char c) => char.IsAsciiHexDigit(c) || c is ':' or '.';

    private static void ScanIPv6(ReadOnlySpan<char> s, ref List<Hit>? hits)
    {
        int pos = 0;
        while (pos < s.Length)
        {
            int rel = s[pos..].IndexOf(':');
            if (rel < 0) return;
            int i = pos + rel;
            pos = i + 1;
            bool leftOk = i > 0 && (char.IsAsciiHexDigit(s[i - 1]) || s[i - 1] == ':');
            bool rightOk = i + 1 < s.Length && (char.IsAsciiHexDigit(s[i + 1]) || s[i + 1] == ':');
            if (!leftOk || !rightOk) continue;
            int l = i, r = i;
            while (l > 0 && IsV6Char(s[l - 1])) l--;
            while (r < s.Length && IsV6Char(s[r])) r++;
            while (r > i && s[r - 1] == '.') r--;
            pos = r;
            if ((l > 0 && (IsWord(s[l - 1]) || s[l - 1] == ':')) || (r < s.Length && IsWord(s[r]))) continue;
            var cand = s[l..r];
            if (cand.Count(':') < 2 || !cand.ContainsAny(Digits)) continue;
            int groups = 0;
            foreach (var g in cand.Split(':')) if (!cand[g].IsEmpty) groups++;
            if (groups < 3) continue; // `a[1::2]`, `x::y` are slices and paths, not addresses
            if (!IPAddress.TryParse(cand, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6) continue;
            if (IsPublicIPv6(ip)) Add(ref hits, l, r - l, RedactionKind.IpAddress);
        }
    }

    private static bool IsPublicIPv6(IPAddress ip)
    {
        if (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.IPv6Any) || ip.IsIPv6LinkLocal || ip.IsIPv6SiteLocal || ip.IsIPv6UniqueLocal || ip.IsIPv6Multicast)
            return false;
        if (ip.IsIPv4MappedToIPv6)
        {
            var b = ip.MapToIPv4().GetAddressBytes();
            return IsPublicIPv4([b[0], b[1], b[2], b[3]]);
        }
        return true;
    }
}
