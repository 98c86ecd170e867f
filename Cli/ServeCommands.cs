using System.CommandLine;
using CodeLm.Server;
using CodeLm.Server.Completion;
using CodeLm.Server.Http;
using CodeLm.Server.Stats;

namespace CodeLm.Cli;

public static class ServeCommands
{
    public static Command Create()
    {
        var defaults = new CompletionSettings();
        var httpDefaults = new HttpServeOptions();
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint directory, or a training run directory (uses best/, else the latest checkpoint)." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };
        var logFile = new Option<string?>("--log-file") { Description = "Append the log to this file instead of stderr (stdout is the protocol)." };
        var logJson = new Option<bool>("--log-json") { Description = "Write the log as one JSON object per line (for log collectors)." };
        var verbose = new Option<bool>("--verbose") { Description = "Log every completion (debug level)." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Default most tokens per completion (the client's setting wins).", DefaultValueFactory = _ => defaults.MaxNewTokens };
        var temperature = new Option<float>("--temperature") { Description = "Default sampling temperature; 0 is greedy.", DefaultValueFactory = _ => defaults.Temperature };
        var budget = new Option<int>("--context-budget") { Description = "Default prompt budget in tokens (capped by the model's context).", DefaultValueFactory = _ => defaults.ContextBudget };
        var precision = PrecisionOption.Create();
        var acceptanceLog = new Option<string?>("--acceptance-log") { Description = $"Where the editor's completion events are appended for `codelm stats` (default: {AcceptanceLog.DefaultPath}); the client's acceptanceLog setting turns them off." };
        var noWarmup = new Option<bool>("--no-warmup") { Description = "Skip the warm-up completion at startup." };
        // Clients such as vscode-languageclient (TransportKind.stdio) append --stdio; stdio is the only transport anyway.
        var stdio = new Option<bool>("--stdio") { Description = "Accepted for LSP clients that pass it; stdio is the LSP transport." };
        var http = new Option<string?>("--http") { Description = "Serve the checkpoint over HTTP instead of LSP: an OpenAI-compatible POST /v1/completions (with suffix for fill-in-the-middle, n, stop, streaming), GET /v1/models and GET /health on HOST:PORT. HOST defaults to 127.0.0.1 (this machine only); 0.0.0.0 listens on every interface. Example: --http 127.0.0.1:8080.", HelpName = "HOST:PORT" };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "A file holding an API key. With --http, clients must send it (Authorization: Bearer KEY; others get 401); with --backend, it is sent to the backend." };
        var modelName = new Option<string>("--model-name") { Description = "With --http: the model's name in /v1/models and requests' \"model\" field.", DefaultValueFactory = _ => httpDefaults.ModelName };
        var queueLimit = new Option<int>("--queue-limit") { Description = "With --http: requests that may wait for the model; more get 429 with Retry-After.", DefaultValueFactory = _ => httpDefaults.QueueLimit };
        var maxBatch = new Option<int>("--max-batch") { Description = "With --http: most waiting requests decoded together as one batch (one model step serves them all); 1 decodes one request at a time; 0 chooses for the device (1 on the CPU, where batching measured slower; 8 on a GPU).", DefaultValueFactory = _ => httpDefaults.MaxBatch };
        var maxN = new Option<int>("--max-n") { Description = "With --http: most samples per request (n); they decode as one batch.", DefaultValueFactory = _ => httpDefaults.MaxN };
        var backend = new Option<string?>("--backend") { Description = "Complete from a remote OpenAI-compatible server instead of a local checkpoint: its /v1 URL (vLLM, llama.cpp's server, or another `codelm serve --http`), e.g. http://gpu-node:8000/v1. Needs --model.", HelpName = "URL" };
        var model = new Option<string?>("--model") { Description = "With --backend: the model's name on that server (as its /v1/models lists it)." };
        var backendFim = new Option<string>("--backend-fim") { Description = "With --backend: how fill-in-the-middle is sent. suffix (default): as the suffix field (codelm serve --http, llama.cpp's server); starcoder, qwen, deepseek or codellama: rendered into the prompt with that family's sentinels, for servers that refuse suffix (vLLM); or a template with {prefix} and {suffix}.", DefaultValueFactory = _ => "suffix" };

        var cmd = new Command("serve",
            "Serve inline completions over the Language Server Protocol on stdin/stdout (editors start it: the VS Code " +
            "extension, or neovim with cmd {\"codelm\", \"serve\", \"--checkpoint\", DIR}); settings come from the client. " +
            "With --http HOST:PORT, serve the checkpoint to many clients over an OpenAI-compatible completions API instead; " +
            "with --backend URL --model NAME, the language server gets its completions from such a server.")
        {
            checkpoint, device, logFile, logJson, verbose, maxNew, temperature, budget, precision, acceptanceLog, noWarmup, stdio,
            http, apiKeyFile, modelName, queueLimit, maxBatch, maxN, backend, model, backendFim,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var settings = new CompletionSettings
            {
                MaxNewTokens = parse.GetValue(maxNew),
                Temperature = parse.GetValue(temperature),
                ContextBudget = parse.GetValue(budget),
            };
            var options = new ServeOptions(parse.GetValue(checkpoint), parse.GetValue(device)!, parse.GetValue(logFile),
                parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Info, settings, WarmUp: !parse.GetValue(noWarmup), Precision: PrecisionOption.Value(parse, precision),
                AcceptanceLogPath: parse.GetValue(acceptanceLog))
            {
                Http = parse.GetValue(http) is { } listen
                    ? new HttpServeOptions(listen) { ModelName = parse.GetValue(modelName)!, QueueLimit = parse.GetValue(queueLimit), MaxN = parse.GetValue(maxN), MaxBatch = parse.GetValue(maxBatch) }
                    : null,
                ApiKeyFile = parse.GetValue(apiKeyFile),
                Backend = parse.GetValue(backend),
                Model = parse.GetValue(model),
                BackendFim = parse.GetValue(backendFim)!,
                JsonLog = parse.GetValue(logJson),
            };
            return await ServeRunner.RunAsync(options, ct);
        });
        return cmd;
    }
}
