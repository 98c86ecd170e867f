using CodeLm.Common;

namespace CodeLm.Eval.Generation;

/// <summary>
/// Cuts a raw completion at the end of the function it continues. Python: at the first non-blank line that dedents to
/// column 0. Brace languages: where the braces the prompt left open are all closed (matching braces outside strings,
/// character literals and comments); if the completion ends with some still open, the missing braces are appended.
/// </summary>
public static class CompletionTruncation
{
    public static string Truncate(string language, string prompt, string completion) => LanguageTable.Find(language)?.Blocks switch
    {
        BlockStyle.Indentation => Python(prompt, completion),
        BlockStyle.Braces => Braces(prompt, completion),
        _ => completion,
    };

    public static string Python(string prompt, string completion)
    {
        var continuesLine = prompt.Length > 0 && !prompt.EndsWith('\n');
        var lines = completion.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            // The first line may continue the prompt's last line; only whole lines after it can end the function.
            if (i == 0 && continuesLine) continue;
            if (line.Trim().Length > 0 && !char.IsWhiteSpace(line[0]))
                return string.Join('\n', lines[..i]).TrimEnd() + "\n";
        }
        return completion;
    }

    public static string Braces(string prompt, string completion)
    {
        var scanner = new BraceScanner();
        foreach (var c in prompt) scanner.Feed(c);
        var open = scanner.Depth;
        if (open <= 0) return completion;
        for (var i = 0; i < completion.Length; i++)
        {
            scanner.Feed(completion[i]);
            if (scanner.Depth == 0) return completion[..(i + 1)] + "\n";
        }
        // Still open (a stop sequence or the length limit ended it): close what the prompt and completion opened.
        var closing = string.Concat(Enumerable.Range(0, scanner.Depth).Select(level => "\n" + new string(' ', 4 * (scanner.Depth - 1 - level)) + "}"));
        return completion.TrimEnd() + closing + "\n";
    }

    /// <summary>Tracks brace depth through C-like code, skipping strings, character literals and comments.</summary>
    private sealed class BraceScanner
    {
        private enum State { Code, LineComment, BlockComment, String, Char, Template }

        private State _state;
        private char _prev;
        private bool _escaped;

        public int Depth { get; private set; }

        public void Feed(char c)
        {
            switch (_state)
            {
                case State.Code:
                    if (_prev == '/' && c == '/') { _state = State.LineComment; c = '\0'; }
                    else if (_prev == '/' && c == '*') { _state = State.BlockComment; c = '\0'; }
                    else if (c == '"') _state = State.String;
                    else if (c == '\'') _state = State.Char;
                    else if (c == '`') _state = State.Template;
                    else if (c == '{') Depth++;
                    else if (c == '}') Depth--;
                    break;
                case State.LineComment:
                    if (c == '\n') _state = State.Code;
                    break;
                case State.BlockComment:
                    if (_prev == '*' && c == '/') { _state = State.Code; c = '\0'; }
                    break;
                case State.String or State.Char or State.Template:
                    var close = _state == State.String ? '"' : _state == State.Char ? '\'' : '`';
                    if (_escaped) _escaped = false;
                    else if (c == '\\') _escaped = true;
                    else if (c == close || (c == '\n' && _state != State.Template)) _state = State.Code;
                    break;
            }
            _prev = c;
        }
    }
}
