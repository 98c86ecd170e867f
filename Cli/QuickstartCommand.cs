using System.CommandLine;
using CodeLm.Model.Native;

namespace CodeLm.Cli;

public static class QuickstartCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "cpu" };
        var cmd = new Command("quickstart", "Run the whole pipeline offline on a small default: corpus, tokenizer, model, eval, and how to serve it.") { device };
        cmd.SetAction(parse =>
        {
            var r = RuntimeCheck.Run(parse.GetValue(device)!);
            Console.WriteLine($"model runtime: libtorch {r.TorchVersion} on {r.Device}, {r.Threads} threads, native glue loaded {r.LoaderMode}" +
                              (r.PatchedPath != null ? $" ({r.PatchedPath})" : ""));
            Console.WriteLine($"smoke training: loss {r.LossBefore:F4} -> {r.LossAfter:F4} in {r.Milliseconds:F0} ms");
            return r.LossAfter < r.LossBefore ? 0 : 1;
        });
        return cmd;
    }
}
