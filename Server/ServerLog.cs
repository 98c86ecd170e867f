namespace CodeLm.Server;

public enum LogLevel { Debug, Info, Warn, Error }

/// <summary>
/// Line-oriented log to stderr or a file. Never stdout: stdout carries the protocol.
/// </summary>
public sealed class ServerLog : IDisposable
{
    private readonly TextWriter writer;
    private readonly bool ownsWriter;
    private readonly Lock gate = new();

    public ServerLog(TextWriter writer, LogLevel level = LogLevel.Info, bool ownsWriter = false)
    {
        this.writer = writer;
        this.ownsWriter = ownsWriter;
        Level = level;
    }

    public LogLevel Level { get; set; }

    /// <summary>Appends to <paramref name="path"/> when given, else writes to stderr.</summary>
    public static ServerLog Open(string? path, LogLevel level, bool json = false)
    {
        if (string.IsNullOrEmpty(path)) return new ServerLog(Console.Error, level) { Json = json };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        return new ServerLog(new StreamWriter(stream) { AutoFlush = true }, level, ownsWriter: true) { Json = json };
    }

    public void Debug(string message) => Write(LogLevel.Debug, message);
    public void Info(string message) => Write(LogLevel.Info, message);
    public void Warn(string message) => Write(LogLevel.Warn, message);
    public void Error(string message) => Write(LogLevel.Error, message);

    /// <summary>
    /// One event with named fields, for the HTTP endpoint's request log: as <c>event key=value ...</c> lines (values with
    /// spaces quoted), or, with <see cref="Json"/>, one JSON object per line for log collectors.
    /// </summary>
    public void Event(LogLevel level, string name, params (string Key, object? Value)[] fields)
    {
        if (level < Level) return;
        if (Json)
        {
            var o = new System.Text.Json.Nodes.JsonObject
            {
                ["time"] = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["level"] = level.ToString().ToLowerInvariant(),
                ["event"] = name,
            };
            foreach (var (key, value) in fields) o[key] = System.Text.Json.JsonSerializer.SerializeToNode(value);
            WriteLine(o.ToJsonString());
            return;
        }
        var line = new System.Text.StringBuilder(name);
        foreach (var (key, value) in fields)
        {
            var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            line.Append(' ').Append(key).Append('=').Append(text.Length == 0 || text.Any(c => c is ' ' or '"' or '=' || char.IsControl(c)) ? System.Text.Json.JsonSerializer.Serialize(text) : text);
        }
        Write(level, line.ToString());
    }

    /// <summary>Whether <see cref="Event"/> writes JSON lines (every other message too, as {"time","level","message"}).</summary>
    public bool Json { get; init; }

    public void Write(LogLevel level, string message)
    {
        if (level < Level) return;
        if (Json)
        {
            WriteLine(new System.Text.Json.Nodes.JsonObject
            {
                ["time"] = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["level"] = level.ToString().ToLowerInvariant(),
                ["message"] = message,
            }.ToJsonString());
            return;
        }
        WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {level.ToString().ToLowerInvariant(),-5} {message}");
    }

    private void WriteLine(string line)
    {
        lock (gate)
        {
            try
            {
                writer.WriteLine(line);
                writer.Flush();
            }
            catch (IOException) { } // a closed stderr must not take the server down
            catch (ObjectDisposedException) { }
        }
    }

    public void Dispose()
    {
        if (ownsWriter) writer.Dispose();
    }
}
