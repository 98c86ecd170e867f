using Spectre.Console;

namespace CodeLm.Cli;

/// <summary>One progress report: which bar (phase), what it says, and how far; <c>Max</c> 0 means "amount unknown".</summary>
internal readonly record struct ProgressUpdate(string Phase, string Label, double Value = 0, double Max = 0, bool Done = false);

/// <summary>
/// The one progress renderer of every command. On a terminal: a bar per phase on stderr, with notes printed above the
/// bars. When stderr is redirected (a log, CI, a pipe): no bars; notes become lines, and an update becomes a line only
/// when the command's <c>plain</c> policy returns one, so a log gets a readable cadence rather than thousands of lines.
/// </summary>
internal sealed class CliProgress
{
    private readonly Lock _gate = new();
    private readonly ProgressContext? _bars;
    private readonly IAnsiConsole? _console;
    private readonly Func<ProgressUpdate, string?>? _plain;
    private readonly Dictionary<string, ProgressTask> _tasks = [];

    private CliProgress(ProgressContext? bars, IAnsiConsole? console, Func<ProgressUpdate, string?>? plain)
    {
        _bars = bars;
        _console = console;
        _plain = plain;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with progress. <paramref name="phases"/> shows those bars from the start, in that order
    /// (others appear when first reported).
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<CliProgress, Task<T>> work, Func<ProgressUpdate, string?>? plain = null, IReadOnlyList<string>? phases = null)
    {
        if (Console.IsErrorRedirected) return await work(new CliProgress(null, null, plain));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var progress = new CliProgress(ctx, console, plain);
                foreach (var phase in phases ?? []) progress.Bar(phase, autoStart: false);
                var result = await work(progress);
                progress.CompleteAll();
                return result;
            });
    }

    /// <summary>The same for synchronous work (training runs on the calling thread).</summary>
    public static T Run<T>(Func<CliProgress, T> work, Func<ProgressUpdate, string?>? plain = null) =>
        RunAsync(p => Task.FromResult(work(p)), plain).GetAwaiter().GetResult();

    /// <summary>Whether bars are drawn (a terminal); otherwise updates go through the command's plain policy.</summary>
    public bool ShowsBars => _bars != null;

    /// <summary>An <see cref="IProgress{T}"/> for a library call, reporting synchronously (no thread-pool hop, so no reordering).</summary>
    public IProgress<T> For<T>(Func<T, ProgressUpdate> describe) => new Relay<T>(value => Update(describe(value)));

    public void Update(ProgressUpdate u)
    {
        lock (_gate)
        {
            if (_bars == null)
            {
                if (_plain?.Invoke(u) is { } line) Console.Error.WriteLine(line);
                return;
            }
            var task = Bar(u.Phase, autoStart: true);
            if (!task.IsStarted) task.StartTask();
            task.Description = Markup.Escape(u.Label);
            task.IsIndeterminate = u.Max <= 0 && !u.Done;
            if (u.Max > 0) { task.MaxValue = u.Max; task.Value = Math.Min(u.Value, u.Max); }
            if (u.Done) { task.Value = task.MaxValue; task.StopTask(); }
        }
    }

    /// <summary>A line for the record: above the bars on a terminal, as is in a log.</summary>
    public void Note(string line)
    {
        lock (_gate)
        {
            if (_console != null) _console.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
            else Console.Error.WriteLine(line);
        }
    }

    private ProgressTask Bar(string phase, bool autoStart)
    {
        if (!_tasks.TryGetValue(phase, out var task))
            _tasks[phase] = task = _bars!.AddTask(Markup.Escape(phase), autoStart, maxValue: 1);
        return task;
    }

    private void CompleteAll()
    {
        lock (_gate)
            foreach (var task in _tasks.Values.Where(t => t.IsStarted && !t.IsFinished)) { task.Value = task.MaxValue; task.StopTask(); }
    }

    private sealed class Relay<T>(Action<T> onReport) : IProgress<T>
    {
        public void Report(T value) => onReport(value);
    }
}
