using System.CommandLine;
using CodeLm.DataPipeline.Corpus;

namespace CodeLm.Cli;

/// <summary>Invokes the parsed command and turns expected failures into one clear line and a non-zero exit code.</summary>
public static class CliRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        // No response files: `--prompt @file.py` is our own syntax.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var command = CommandPath(parse.CommandResult);
        try
        {
            // Exceptions reach the handlers below, not a stack trace: this is the only place codelm words a failure.
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cts.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"{command}: cancelled (finished work is kept; rerun to resume).");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (IsExpected(e))
        {
            Console.Error.WriteLine($"{command}: error: {CliErrors.Describe(e)}");
            if (Environment.GetEnvironmentVariable("CODELM_DEBUG") == "1") Console.Error.WriteLine(e);
            return ExitCodes.Failed;
        }
    }

    /// <summary>Failures of input or environment a user can fix; anything else is a bug and keeps its stack trace.</summary>
    private static bool IsExpected(Exception e) =>
        e is UserFacingException or SourceFailuresException or CodeLm.DataPipeline.Distributed.StageFailedException or IOException or InvalidDataException or InvalidOperationException or ArgumentException
            or UnauthorizedAccessException or NotSupportedException or FormatException
#if !CODELM_DATA_ONLY
            or CodeLm.Model.Distributed.CollectiveTimeoutException or CodeLm.Model.Distributed.CollectiveUnavailableException
            or CodeLm.Model.Distributed.CollectiveAbortedException
#endif
        ;

    /// <summary>"codelm data build" for the command being run.</summary>
    private static string CommandPath(System.CommandLine.Parsing.CommandResult? result)
    {
        var names = new List<string>();
        for (var r = result; r != null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            if (r.Parent != null) names.Insert(0, r.Command.Name);
        return string.Join(' ', names.Prepend("codelm"));
    }
}

/// <summary>An error whose message already tells the user what to do.</summary>
public sealed class UserFacingException(string message) : Exception(message);
