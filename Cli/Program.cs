using System.CommandLine;
using CodeLm.Cli;
using CodeLm.Model.Native;

// The corpus commands run as the ahead-of-time compiled codelm-data where it was built next to codelm. The rest of Main
// is a method of its own, so handing over compiles and loads nothing else (System.CommandLine, the model): ~20 ms.
if (NativeDataCommand.ExecIfPresent(args) is { } error)
{
    Console.Error.WriteLine(error);
    return ExitCodes.Failed;
}
return await RunAsync(args);

static async Task<int> RunAsync(string[] args)
{
    // Before anything allocates, commands that run the model restart once with glibc malloc tuned for large tensors
    // (see NativeAllocator); the data and tokenizer stages allocate little natively and keep malloc as it is.
    if (args.Length > 0 && args[0] is "train" or "sample" or "eval" or "serve" or "export" or "quickstart" or "doctor")
        NativeAllocator.ReexecuteTuned();

    var root = new RootCommand("CodeLm: crawl code, train a tokenizer and a code model, evaluate it, and serve completions to your editor.");
    root.Add(DataCommands.Create());
    root.Add(TokenizerCommands.Create());
    root.Add(TrainCommands.Create());
    root.Add(SampleCommands.Create());
    root.Add(EvalCommands.Create());
    root.Add(TranslateCommand.Create());
    root.Add(ServeCommands.Create());
    root.Add(StatsCommand.Create());
    root.Add(ExportCommand.Create());
    root.Add(QuickstartCommand.Create());
    root.Add(DoctorCommand.Create());
    return await CliRunner.InvokeAsync(root, args);
}
