using System.CommandLine;

namespace CodeLm.Cli;

public static class EvalCommands
{
    public static Command Create()
    {
        var cmd = new Command("eval", "Run and score HumanEval-style pass@k evaluations in a sandbox.");
        cmd.SetAction(_ => { Console.Error.WriteLine("codelm eval: this stage has not landed yet; see the README for its status."); return 2; });
        return cmd;
    }
}
