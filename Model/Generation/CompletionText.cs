using System.Text;

namespace CodeLm.Model.Generation;

/// <summary>
/// The text of one sample as its tokens arrive: bytes are decoded incrementally (a UTF-8 character split across tokens
/// appears once it is complete), stop sequences are matched on the decoded text (so one spanning several tokens is
/// found) and trimmed, and text that could still turn out to be the start of a stop sequence is held back from the
/// stream. The concatenation of every delta returned equals <see cref="Text"/> at the end.
/// </summary>
public sealed class CompletionText
{
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private readonly string[] _stops;
    private readonly int _longestStop;
    private readonly StringBuilder _text = new();
    private char[] _chars = new char[64];
    private int _emitted;

    public CompletionText(IReadOnlyList<string>? stopSequences)
    {
        _stops = stopSequences?.Where(s => s.Length > 0).Distinct().ToArray() ?? [];
        _longestStop = _stops.Length == 0 ? 0 : _stops.Max(s => s.Length);
    }

    public string Text => _text.ToString();
    public bool Stopped { get; private set; }

    /// <summary>Adds one token's bytes. Returns the text that is now safe to show (possibly empty); sets <see cref="Stopped"/> on a match.</summary>
    public string Append(ReadOnlySpan<byte> bytes)
    {
        if (Stopped) throw new InvalidOperationException("The sample already stopped.");
        int oldLength = _text.Length;
        int count = _utf8.GetCharCount(bytes, flush: false);
        if (_chars.Length < count) _chars = new char[Math.Max(count, 2 * _chars.Length)];
        count = _utf8.GetChars(bytes, _chars, flush: false);
        _text.Append(_chars, 0, count);
        if (_stops.Length == 0) return Emit(_text.Length);

        int stopAt = FindStop(Math.Max(0, oldLength - _longestStop + 1));
        if (stopAt >= 0)
        {
            _text.Length = stopAt;
            Stopped = true;
            return Emit(stopAt);
        }
        return Emit(_text.Length - HeldBack());
    }

    /// <summary>Ends the sample: a dangling partial UTF-8 sequence becomes U+FFFD and held-back text is released.</summary>
    public string Finish()
    {
        if (!Stopped)
        {
            int count = _utf8.GetChars(ReadOnlySpan<byte>.Empty, _chars, flush: true);
            _text.Append(_chars, 0, count);
        }
        return Emit(_text.Length);
    }

    private string Emit(int upTo)
    {
        if (upTo <= _emitted) return "";
        var delta = _text.ToString(_emitted, upTo - _emitted);
        _emitted = upTo;
        return delta;
    }

    /// <summary>Earliest start of any stop sequence at or after <paramref name="from"/>, or -1.</summary>
    private int FindStop(int from)
    {
        var window = _text.ToString(from, _text.Length - from);
        int best = -1;
        foreach (var stop in _stops)
        {
            int i = window.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best < 0 ? -1 : from + best;
    }

    /// <summary>Length of the longest suffix of the text that is a proper prefix of some stop sequence.</summary>
    private int HeldBack()
    {
        int held = 0;
        foreach (var stop in _stops)
            for (int k = Math.Min(stop.Length - 1, _text.Length - _emitted); k > held; k--)
                if (EndsWith(stop.AsSpan(0, k))) { held = k; break; }
        return held;
    }

    private bool EndsWith(ReadOnlySpan<char> s)
    {
        int start = _text.Length - s.Length;
        for (int i = 0; i < s.Length; i++)
            if (_text[start + i] != s[i]) return false;
        return true;
    }
}
