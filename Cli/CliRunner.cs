using System.CommandLine;

namespace CodeLm.Cli;

/// <summary>Invokes the parsed command and turns expected failures into one clear line and a non-zero exit code.</summary>
public static class CliRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        try
        {
            // No response files: `--prompt @file.py` is our own syntax. Exceptions reach the handlers below, not a stack trace.
            var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cts.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("codelm: cancelled.");
            return 130;
        }
        catch (Exception e) when (e is UserFacingException or IOException or InvalidDataException or InvalidOperationException or ArgumentException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"codelm: error: {e.Message}");
            if (Environment.GetEnvironmentVariable("CODELM_DEBUG") == "1") Console.Error.WriteLine(e);
            return 1;
        }
    }
}

/// <summary>An error whose message already tells the user what to do.</summary>
public sealed class UserFacingException(string message) : Exception(message);
