using System.CommandLine;
using CodeLm.Server;
using CodeLm.Server.Completion;
using CodeLm.Server.Stats;

namespace CodeLm.Cli;

public static class ServeCommands
{
    public static Command Create()
    {
        var defaults = new CompletionSettings();
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint directory, or a training run directory (uses best/, else the latest checkpoint).", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };
        var logFile = new Option<string?>("--log-file") { Description = "Append the log to this file instead of stderr (stdout is the protocol)." };
        var verbose = new Option<bool>("--verbose") { Description = "Log every completion (debug level)." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Default most tokens per completion (the client's setting wins).", DefaultValueFactory = _ => defaults.MaxNewTokens };
        var temperature = new Option<float>("--temperature") { Description = "Default sampling temperature; 0 is greedy.", DefaultValueFactory = _ => defaults.Temperature };
        var budget = new Option<int>("--context-budget") { Description = "Default prompt budget in tokens (capped by the model's context).", DefaultValueFactory = _ => defaults.ContextBudget };
        var precision = PrecisionOption.Create();
        var acceptanceLog = new Option<string?>("--acceptance-log") { Description = $"Where the editor's completion events are appended for `codelm stats` (default: {AcceptanceLog.DefaultPath}); the client's acceptanceLog setting turns them off." };
        var noWarmup = new Option<bool>("--no-warmup") { Description = "Skip the warm-up completion at startup." };
        // Clients such as vscode-languageclient (TransportKind.stdio) append --stdio; stdio is the only transport anyway.
        var stdio = new Option<bool>("--stdio") { Description = "Accepted for LSP clients that pass it; stdio is the transport." };

        var cmd = new Command("serve",
            "Serve inline completions over the Language Server Protocol on stdin/stdout (editors start it: the VS Code " +
            "extension, or neovim with cmd {\"codelm\", \"serve\", \"--checkpoint\", DIR}); settings come from the client.")
        {
            checkpoint, device, logFile, verbose, maxNew, temperature, budget, precision, acceptanceLog, noWarmup, stdio,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var settings = new CompletionSettings
            {
                MaxNewTokens = parse.GetValue(maxNew),
                Temperature = parse.GetValue(temperature),
                ContextBudget = parse.GetValue(budget),
            };
            var options = new ServeOptions(parse.GetValue(checkpoint)!, parse.GetValue(device)!, parse.GetValue(logFile),
                parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Info, settings, WarmUp: !parse.GetValue(noWarmup), Precision: PrecisionOption.Value(parse, precision),
                AcceptanceLogPath: parse.GetValue(acceptanceLog));
            return await ServeRunner.RunAsync(options, ct);
        });
        return cmd;
    }
}
