using System.CommandLine;
using CodeLm.Common;
using CodeLm.Model;
using CodeLm.Model.Generation;
using CodeLm.Model.Native;

namespace CodeLm.Cli;

/// <summary>`codelm translate`: a source file in one language rewritten in another by a checkpoint, as `eval --task translate` asks it.</summary>
public static class TranslateCommand
{
    public static Command Create()
    {
        var defaults = new SamplingOptions();
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint directory, Hugging Face model folder, or training run directory.", Required = true };
        var from = new Option<string?>("--from") { Description = "The file's language (default: from its extension), e.g. python." };
        var to = new Option<string>("--to") { Description = "The language to write, e.g. cpp, java, go, rust.", Required = true };
        var file = new Argument<string>("FILE") { Description = "The source file to translate." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the translation to this file (atomically) instead of stdout." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 1024 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy (the default: one best translation).", DefaultValueFactory = _ => 0f };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var precision = PrecisionOption.Create();
        var cmd = new Command("translate", "Translate a source file into another language with a checkpoint. The model reads the file under its language's tag line, then the target's tag line, and writes until end of text or a new tag line. The same prompt layout as `codelm eval run --task translate`.")
        {
            file, checkpoint, from, to, output, maxNew, temperature, device, precision,
        };
        cmd.SetAction((parse, ct) => Task.Run(() =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new UserFacingException($"source file not found: {path}");
            var source = Language(parse.GetValue(from) ?? LanguageTable.FromExtension(Path.GetExtension(path))?.Name
                ?? throw new UserFacingException($"cannot tell the language of {path} from its extension; give --from"), "--from");
            var target = Language(parse.GetValue(to)!, "--to");
            if (source == target) throw new UserFacingException($"--from and --to are both {source}");
            var options = new SamplingOptions(parse.GetValue(maxNew), parse.GetValue(temperature))
            {
                StopSequences = TranslationPrompt.Stops(source, target),
            }.Validate();
            var dir = parse.GetValue(checkpoint)!;
            var run = new GeneratorOptions(OneThreadSteps: true, Precision: PrecisionOption.Value(parse, precision));
            using var generator = Generator.Load(dir, Devices.Resolve(parse.GetValue(device)!), line => Console.Error.WriteLine($"codelm translate: {line}"), run);
            Console.Error.WriteLine($"codelm translate: {source} → {target} with {Checkpoint.Resolve(dir)}");
            var prompt = TranslationPrompt.Build(source, File.ReadAllText(path), target);
            var text = generator.Generate(prompt, 1, options, null, ct)[0].Text.TrimEnd() + "\n";
            if (parse.GetValue(output) is { } outPath) AtomicFile.WriteAllText(outPath, text);
            else Console.Out.Write(text);
            return 0;
        }, ct));
        return cmd;
    }

    private static string Language(string name, string option) =>
        LanguageTable.FromEvalName(name.ToLowerInvariant())?.Name ?? LanguageTable.Find(name)?.Name
            ?? throw new UserFacingException($"{option}: '{name}' is not a language CodeLm knows (e.g. python, cpp, java, js, go, rust)");
}
