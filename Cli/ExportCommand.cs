using System.CommandLine;
using CodeLm.Model;

namespace CodeLm.Cli;

/// <summary><c>codelm export</c>: a checkpoint as a Hugging Face transformers folder (GPT2LMHeadModel).</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint directory, or a training run directory (uses best/, else the latest checkpoint).", Required = true };
        var outDir = new Option<string>("--out") { Description = "Folder to write: config.json, model.safetensors, tokenizer.json, tokenizer_config.json.", Required = true };
        var cmd = new Command("export", "Export a checkpoint as a Hugging Face transformers folder (loads with AutoModelForCausalLM).") { checkpoint, outDir };
        cmd.SetAction(parse =>
        {
            HfExport.Export(parse.GetValue(checkpoint)!, parse.GetValue(outDir)!);
            Console.WriteLine($"exported {parse.GetValue(checkpoint)} to {Path.GetFullPath(parse.GetValue(outDir)!)} (GPT-2 architecture, tied head)");
            return 0;
        });
        return cmd;
    }
}
