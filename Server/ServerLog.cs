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
    public static ServerLog Open(string? path, LogLevel level)
    {
        if (string.IsNullOrEmpty(path)) return new ServerLog(Console.Error, level);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        return new ServerLog(new StreamWriter(stream) { AutoFlush = true }, level, ownsWriter: true);
    }

    public void Debug(string message) => Write(LogLevel.Debug, message);
    public void Info(string message) => Write(LogLevel.Info, message);
    public void Warn(string message) => Write(LogLevel.Warn, message);
    public void Error(string message) => Write(LogLevel.Error, message);

    public void Write(LogLevel level, string message)
    {
        if (level < Level) return;
        lock (gate)
        {
            try
            {
                writer.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {level.ToString().ToLowerInvariant(),-5} {message}");
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
