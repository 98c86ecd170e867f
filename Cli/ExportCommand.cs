using System.CommandLine;
using CodeLm.Common;
using CodeLm.Model;
using CodeLm.Model.Gguf;
using CodeLm.Model.Hf;
using CodeLm.Model.Lora;

namespace CodeLm.Cli;

/// <summary><c>codelm export</c>: a checkpoint as a Hugging Face transformers folder or a GGUF file for llama.cpp.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint directory, a training run directory (uses best/, else the latest checkpoint), or a Hugging Face model folder.", Required = true };
        var outPath = new Option<string>("--out") { Description = "hf: the folder to write (config.json, model.safetensors, tokenizer files). gguf: the .gguf file to write.", Required = true };
        var format = new Option<ExportFormat>("--format") { Description = "hf: a transformers folder in the model's family (GPT2LMHeadModel for CodeLm's GPT presets, LlamaForCausalLM for llama-* presets, an open model's own family). gguf: one file llama.cpp, Ollama and LM Studio run, tokenizer included.", DefaultValueFactory = _ => ExportFormat.Hf };
        var type = new Option<GgufType>("--type") { Description = "gguf only: tensor type of the matrices (f32, f16, q8_0); norms and biases stay f32.", DefaultValueFactory = _ => GgufType.F16 };
        var mergeLora = new Option<bool>("--merge-lora") { Description = "For a LoRA fine-tuning run or adapter: write its base model with the adapter merged in (W + alpha/r · B·A), in either format." };
        var cmd = new Command("export", "Export a checkpoint as a Hugging Face transformers folder, or as a GGUF file for llama.cpp.") { checkpoint, outPath, format, type, mergeLora };
        cmd.SetAction(parse =>
        {
            string from = parse.GetValue(checkpoint)!, to = parse.GetValue(outPath)!;
            bool adapter = Directory.Exists(from) && PeftAdapter.IsAdapter(Checkpoint.Resolve(from));
            if (adapter && !parse.GetValue(mergeLora))
                throw new OptionException("MergeLora", $"is needed: '{from}' is a LoRA adapter, which exports as its base model with the adapter merged in.");
            if (!adapter && parse.GetValue(mergeLora))
                throw new OptionException("MergeLora", $"applies to LoRA adapters; '{from}' holds none.");
            if (parse.GetValue(format) == ExportFormat.Hf)
            {
                HfExport.Export(from, to);
                var family = HfCheckpoint.ReadConfig(to).Family;
                Console.WriteLine($"exported {from} to {Path.GetFullPath(to)} ({family}; loads with AutoModelForCausalLM)");
                return 0;
            }
            var result = CliProgress.Run(progress => ModelExport.Gguf(from, to, parse.GetValue(type),
                progress.For<GgufProgress>(p => new ProgressUpdate("gguf", $"{p.Tensor} ({p.StoredAs})", p.Index, p.Count, Done: p.Index == p.Count))));
            Console.WriteLine($"exported {from} to {result.Path} ({result.Architecture}, {result.Tensors} tensors, {result.Bytes / 1e6:F1} MB, pre-tokenizer {result.PreTokenizer})");
            return 0;
        });
        return cmd;
    }
}
