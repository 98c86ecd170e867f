using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using CodeLm.Model.Gguf;
using CodeLm.Model.Hf;
using CodeLm.Tests;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Training;
using LLama.Native;
using Xunit.Abstractions;

namespace CodeLm.Model.Tests;

/// <summary>
/// GGUF export checked against llama.cpp itself (LLamaSharp's CPU build): tiny Hugging Face folders written by an
/// independent Python writer (hf_tiny_models.py, with a CodeLm tokenizer as their tokenizer.json) are converted, loaded
/// by llama.cpp, and its logits at every position and its greedy tokens are compared with the Python reference forward.
/// </summary>
public sealed class GgufTests(GgufTests.Fixture fx, ITestOutputHelper output) : IClassFixture<GgufTests.Fixture>
{
    private const string Python = "/usr/bin/python3";
    private const int GreedyTokens = 32;

    /// <summary>One tokenizer, one few-hundred-token id sequence, and the tiny model folders, shared by the tests.</summary>
    public sealed class Fixture : IDisposable
    {
        private readonly Dictionary<string, string> _models = new();
        public TempDir Dir { get; } = new();
        public CodeTokenizer Tokenizer { get; }
        public int[] Ids { get; }
        public string IdsFile => Dir.File("ids.txt");

        public Fixture()
        {
            Tokenizer = TestData.Tokenizer(Dir.File("tok"));
            Ids = Tokenizer.Encode(string.Concat(TestData.Documents(4, 17))).Take(300).ToArray();
            Assert.Equal(300, Ids.Length);
            File.WriteAllText(IdsFile, string.Join(' ', Ids));
        }

        /// <summary>A tiny model folder written by the Python writer with this tokenizer's vocabulary and files.</summary>
        public string Model(string family, params string[] extra)
        {
            var key = family + string.Concat(extra.Select(e => e.Replace("-", "")));
            lock (_models)
            {
                if (_models.TryGetValue(key, out var dir)) return dir;
                dir = Dir.File(key);
                RunPython(["write", family, dir, Tokenizer.VocabSize.ToString(), "--seed", "3", .. extra]);
                CopyTokenizer(Tokenizer.Directory, dir);
                return _models[key] = dir;
            }
        }

        public void Dispose() => Dir.Dispose();
    }

    private static string Script => Path.Combine(AppContext.BaseDirectory, "hf_tiny_models.py");

    private static void RunPython(string[] args)
    {
        var r = Proc.Run(Python, [Script, .. args]);
        Assert.True(r.ExitCode == 0, $"hf_tiny_models.py {string.Join(' ', args)}: {r.Stderr}{r.Stdout}");
    }

    private static void CopyTokenizer(string tokenizerDir, string modelDir)
    {
        foreach (var f in new[] { TokenizerFiles.TokenizerJson, TokenizerFiles.TokenizerConfigJson })
            File.Copy(Path.Combine(tokenizerDir, f), Path.Combine(modelDir, f), overwrite: true);
    }

    /// <summary>The Python reference's logits [T, V] and greedy tokens for the fixture's ids, computed in the background.</summary>
    private Task<(float[] Logits, int[] Greedy)> Reference(string model) => Task.Run(async () =>
    {
        string logits = model + ".logits.bin", greedy = model + ".greedy.txt";
        await Task.WhenAll(
            Task.Run(() => RunPython(["forward", model, fx.IdsFile, logits])),
            Task.Run(() => RunPython(["greedy", model, fx.IdsFile, GreedyTokens.ToString(), greedy])));
        return (MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(logits)).ToArray(),
                File.ReadAllText(greedy).Split(' ').Select(int.Parse).ToArray());
    });

    private sealed record Comparison(double MaxDiff, double MeanDiff, double MaxAbs, int ArgmaxAgree, int GreedyPrefix);

    private Comparison Compare(string gguf, (float[] Logits, int[] Greedy) reference)
    {
        var (logits, vocab, greedy) = LlamaCpp.Run(gguf, fx.Ids, GreedyTokens);
        var r = reference.Logits;
        Assert.Equal(r.Length, logits.Length);
        double maxDiff = 0, sum = 0, maxAbs = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            var d = Math.Abs(logits[i] - r[i]);
            maxDiff = Math.Max(maxDiff, d);
            sum += d;
            maxAbs = Math.Max(maxAbs, Math.Abs(r[i]));
        }
        int agree = 0;
        for (int t = 0; t < fx.Ids.Length; t++)
            if (Argmax(logits.AsSpan(t * vocab, vocab)) == Argmax(r.AsSpan(t * vocab, vocab))) agree++;
        int prefix = greedy.Zip(reference.Greedy).TakeWhile(p => p.First == p.Second).Count();
        return new Comparison(maxDiff, sum / logits.Length, maxAbs, agree, prefix);
    }

    private static int Argmax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private void Report(string what, Comparison c) =>
        output.WriteLine($"{what}: max |llama.cpp - reference| = {c.MaxDiff:G3}, mean {c.MeanDiff:G3} (|logits| up to {c.MaxAbs:F1}), " +
                         $"argmax agreement {c.ArgmaxAgree}/{fx.Ids.Length}, greedy {c.GreedyPrefix}/{GreedyTokens} before the first difference");

    // ggml's CPU GELU looks its input up in an fp16 table (GGML_GELU_FP16): activations are rounded to fp16 there, so
    // GELU families cannot reach float32 agreement (measured 0.015-0.02; with the table's rounding emulated in the
    // reference the gap falls to 0.005, the rest being values that round the other way). SiLU families reach it.
    [Theory]
    [InlineData("llama", 1e-3)]
    [InlineData("mistral", 1e-3, "--untied", "--rope-scale", "2")]
    [InlineData("qwen2", 1e-3, "--untied")]
    [InlineData("starcoder2", 5e-2)]
    [InlineData("gpt2", 5e-2)]
    [InlineData("gpt_bigcode", 5e-2)]
    public async Task Llama_cpp_runs_each_family_with_the_reference_logits_and_greedy_tokens(string family, double f32Tolerance, params string[] extra)
    {
        var model = fx.Model(family, extra);
        var reference = Reference(model);

        var f32 = model + ".f32.gguf";
        var export = GgufConverter.Convert(model, f32, GgufType.F32);
        Assert.Equal(family switch { "mistral" => "llama", "gpt_bigcode" => "starcoder", _ => family }, export.Architecture);
        Assert.Equal(fx.Tokenizer.VocabSize, export.VocabSize);
        Assert.Equal(PreTokenizerNames.CodeLm, export.PreTokenizer);
        var c = Compare(f32, await reference);
        Report($"{family} F32", c);
        Assert.True(c.MaxAbs > 5, $"logits up to {c.MaxAbs} are too small for the comparison to mean anything");
        Assert.True(c.MaxDiff < f32Tolerance, $"F32: max |llama.cpp - reference| = {c.MaxDiff}");
        Assert.True(c.GreedyPrefix == GreedyTokens, $"F32: llama.cpp's greedy tokens differ from the reference's after {c.GreedyPrefix}");

        // F16 and Q8_0: rounding the weights (and, in ggml's Q8_0 matmul, the activations) costs accuracy; stated
        // tolerances relative to the largest logit. Measured: F16 at most 0.3%, Q8_0 at most 7.7%.
        foreach (var (type, ftype, relTolerance, minArgmax, minGreedy) in new[]
                 {
                     (GgufType.F16, LLamaFtype.MOSTLY_F16, 0.01, 0.98, 16),
                     (GgufType.Q8_0, LLamaFtype.MOSTLY_Q8_0, 0.12, 0.85, 0),
                 })
        {
            var gguf = model + $".{type}.gguf";
            GgufConverter.Convert(model, gguf, type);
            AssertSameAsLlamaCppQuantizer(f32, gguf, ftype);
            c = Compare(gguf, await reference);
            Report($"{family} {type}", c);
            Assert.True(c.MaxDiff < relTolerance * c.MaxAbs, $"{type}: max |llama.cpp - reference| = {c.MaxDiff} (|logits| up to {c.MaxAbs})");
            Assert.True(c.ArgmaxAgree >= minArgmax * fx.Ids.Length, $"{type}: the next-token argmax agrees at {c.ArgmaxAgree}/{fx.Ids.Length} positions");
            Assert.True(c.GreedyPrefix >= minGreedy, $"{type}: greedy agrees for {c.GreedyPrefix} tokens");
        }
    }

    /// <summary>
    /// Our F16 and Q8_0 tensors are byte for byte what llama.cpp's own quantizer makes of our F32 export, and the
    /// tensors kept in F32 are the ones it keeps: the quantized files are llama.cpp's, only made without it.
    /// </summary>
    private static void AssertSameAsLlamaCppQuantizer(string f32, string ours, LLamaFtype ftype)
    {
        var theirsPath = ours + ".llama-quantize";
        LlamaCpp.Quantize(f32, theirsPath, ftype);
        var a = new GgufReader(ours);
        var b = new GgufReader(theirsPath);
        Assert.Equal(b.Tensors.Select(t => t.Name).Order(), a.Tensors.Select(t => t.Name).Order());
        foreach (var t in a.Tensors)
        {
            var u = b.Find(t.Name);
            Assert.True(t.Type == u.Type, $"{t.Name}: ours is ggml type {t.Type}, llama.cpp's quantizer gives {u.Type}");
            Assert.Equal(u.Dims, t.Dims);
            long n = t.Dims.Aggregate(1L, (x, y) => x * y);
            long bytes = t.Type switch { 0 => n * 4, 1 => n * 2, 8 => n / 32 * 34, _ => throw new InvalidDataException($"type {t.Type}") };
            Assert.True(a.Data(t.Name, bytes).SequenceEqual(b.Data(t.Name, bytes)), $"{t.Name}: bytes differ from llama.cpp's quantizer");
        }
    }

    [Fact]
    public async Task Sharded_bf16_weights_convert_and_match()
    {
        var model = fx.Model("llama", "--dtype", "bf16", "--shards", "3", "--untied");
        Assert.True(File.Exists(Path.Combine(model, "model.safetensors.index.json")));
        var reference = Reference(model);
        var gguf = model + ".gguf";
        var reports = new List<GgufProgress>();
        var export = GgufConverter.Convert(model, gguf, GgufType.F32, new SyncProgress<GgufProgress>(reports.Add));
        Assert.Equal(Enumerable.Range(1, export.Tensors), reports.Select(r => r.Index));
        Assert.All(reports, r => Assert.Equal(export.Tensors, r.Count));
        Assert.Equal(new FileInfo(gguf).Length, export.Bytes);
        var c = Compare(gguf, await reference);
        Report("llama bf16 in 3 shards, F32", c);
        Assert.True(c.MaxAbs > 5 && c.MaxDiff < 1e-3, $"max |llama.cpp - reference| = {c.MaxDiff} (|logits| up to {c.MaxAbs})");
        Assert.Equal(GreedyTokens, c.GreedyPrefix);
        Assert.Contains(new GgufReader(gguf).Tensors, t => t.Name == "output.weight");
    }

    /// <summary>
    /// A CodeLm checkpoint, exported for transformers (GPT-2 with exact-erf GELU) and then to GGUF, runs in llama.cpp
    /// with CodeLm's own logits; the tolerance is the GELU families' (ggml's GELU is the tanh form through an fp16 table).
    /// </summary>
    [Fact]
    public void A_CodeLm_checkpoint_runs_in_llama_cpp_with_its_own_logits()
    {
        Torch.Init();
        TorchSharp.torch.manual_seed(11);
        var config = new GptConfig(fx.Tokenizer.VocabSize, ContextLength: 128, Layers: 2, Heads: 4, Embedding: 64);
        using var model = new Gpt(config);
        using (TorchSharp.torch.no_grad())
            foreach (var p in model.parameters()) p.add_(TorchSharp.torch.randn_like(p) * 0.3);
        model.eval();
        var ckpt = fx.Dir.File("codelm-ckpt");
        Checkpoint.Save(ckpt, model, fx.Tokenizer.Directory);
        var hf = fx.Dir.File("codelm-hf");
        HfExport.Export(ckpt, hf);
        var gguf = hf + ".gguf";
        Assert.Equal("gpt2", GgufConverter.Convert(hf, gguf, GgufType.F32).Architecture);

        var ids = fx.Ids.Take(100).ToArray();
        using var ours = model.forward(TorchSharp.torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length])).contiguous();
        var expected = MemoryMarshal.Cast<byte, float>(ours.bytes).ToArray();
        var (logits, _, _) = LlamaCpp.Run(gguf, ids, 1);
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(logits[i] - expected[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs(expected[i]));
        }
        output.WriteLine($"CodeLm checkpoint → HF → GGUF F32: max |llama.cpp - CodeLm| = {maxDiff:G3} (|logits| up to {maxAbs:F1})");
        Assert.True(maxAbs > 5 && maxDiff < 5e-2, $"max |llama.cpp - CodeLm| = {maxDiff} (|logits| up to {maxAbs})");
    }

    /// <summary>
    /// A LoRA adapter on a model folder, exported merged (as `codelm export --merge-lora` does), runs in llama.cpp with
    /// the adapted model's logits: llama.cpp reads the merged weights CodeLm wrote, not CodeLm's own forward.
    /// </summary>
    [Fact]
    public void A_lora_adapter_exported_merged_runs_in_llama_cpp_as_the_adapted_model()
    {
        Torch.Init();
        var dir = fx.Model("qwen2");
        var (model, config) = Checkpoint.LoadModel(dir, TorchSharp.torch.CPU);
        using (model)
        {
            TorchSharp.torch.manual_seed(12);
            var options = new CodeLm.Model.Lora.LoraOptions { Rank = 4, Alpha = 8, Dropout = 0 };
            CodeLm.Model.Lora.LoraModel.Apply(model, HfFamily.Qwen2, options);
            using (TorchSharp.torch.no_grad())
                foreach (var (_, layer) in CodeLm.Model.Lora.LoraModel.Layers(model))
                    foreach (var part in layer.Parts) part.LoraB.add_(TorchSharp.torch.randn_like(part.LoraB) * 0.3);
            model.eval();
            var adapter = fx.Dir.File("qwen2-adapter");
            Directory.CreateDirectory(adapter);
            CodeLm.Model.Lora.PeftAdapter.Save(adapter, model, HfFamily.Qwen2, options, CodeLm.Model.Lora.BaseModel.Of(dir));
            File.WriteAllText(Path.Combine(adapter, Checkpoint.ConfigFile), config.ToJson());
            Directory.CreateDirectory(Path.Combine(adapter, Checkpoint.TokenizerDirName));
            CopyTokenizer(fx.Tokenizer.Directory, Path.Combine(adapter, Checkpoint.TokenizerDirName));

            var gguf = fx.Dir.File("qwen2-adapter-merged.gguf");
            Assert.Equal("qwen2", ModelExport.Gguf(adapter, gguf, GgufType.F32).Architecture);
            var ids = fx.Ids.Take(100).ToArray();
            using var ours = model.forward(TorchSharp.torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length])).contiguous();
            var expected = MemoryMarshal.Cast<byte, float>(ours.bytes).ToArray();
            using var baseModel = Checkpoint.LoadModel(dir, TorchSharp.torch.CPU).Model;
            using var plain = baseModel.forward(TorchSharp.torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length])).contiguous();
            var unadapted = MemoryMarshal.Cast<byte, float>(plain.bytes).ToArray();
            var (logits, _, _) = LlamaCpp.Run(gguf, ids, 1);
            double maxDiff = 0, maxAbs = 0, moved = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(logits[i] - expected[i]));
                maxAbs = Math.Max(maxAbs, Math.Abs(expected[i]));
                moved = Math.Max(moved, Math.Abs(expected[i] - unadapted[i]));
            }
            output.WriteLine($"LoRA merged → GGUF F32: max |llama.cpp - CodeLm adapted| = {maxDiff:G3}; the adapter moves logits by up to {moved:F2}");
            Assert.True(moved > 0.5, $"the adapter barely changes the model ({moved}), so the comparison would not show it was merged");
            Assert.True(maxDiff < 1e-3, $"max |llama.cpp - CodeLm adapted| = {maxDiff} (|logits| up to {maxAbs})");
        }
    }

    private string CopyOf(string model, string name, params string[] except)
    {
        var dir = fx.Dir.File(name);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.EnumerateFiles(model).Where(f => !except.Contains(Path.GetFileName(f))))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
        return dir;
    }

    [Fact]
    public void An_unsupported_model_type_names_what_was_found_and_what_is_supported()
    {
        var dir = CopyOf(fx.Model("llama"), "falcon");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        config["model_type"] = "falcon";
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        var outFile = fx.Dir.File("falcon.gguf");
        var e = Assert.Throws<UnsupportedModelException>(() => GgufConverter.Convert(dir, outFile, GgufType.F32));
        output.WriteLine(e.Message);
        Assert.Equal(ModelPart.ModelType, e.Part);
        Assert.Equal("falcon (LlamaForCausalLM)", e.Found); // as HfArchitectures, which reads the folder, names it
        Assert.Equal(["llama", "mistral", "qwen2", "starcoder2", "gpt2", "gpt_bigcode"], e.Supported);
        Assert.Contains("falcon", e.Message);
        Assert.Contains("gpt_bigcode", e.Message);
        Assert.False(File.Exists(outFile));
    }

    /// <summary>The converter takes the model as HfArchitectures reads it: a sliding window is the context, a setting it refuses is refused.</summary>
    [Fact]
    public void The_model_is_the_one_CodeLm_reads_from_config_json()
    {
        var dir = CopyOf(fx.Model("mistral", "--untied", "--rope-scale", "2"), "mistral-window");
        var path = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        config["sliding_window"] = 128;
        File.WriteAllText(path, config.ToJsonString());
        var gguf = fx.Dir.File("mistral-window.gguf");
        GgufConverter.Convert(dir, gguf, GgufType.F32);
        var meta = new GgufReader(gguf).Metadata;
        Assert.Equal(128u, meta["llama.context_length"]);
        Assert.Equal(2f, meta["llama.rope.scaling.factor"]);

        dir = CopyOf(fx.Model("gpt2"), "gpt2-unscaled");
        path = Path.Combine(dir, "config.json");
        config = JsonNode.Parse(File.ReadAllText(path))!;
        config["scale_attn_weights"] = false;
        File.WriteAllText(path, config.ToJsonString());
        var e = Assert.Throws<UnsupportedModelException>(() => GgufConverter.Convert(dir, fx.Dir.File("gpt2-unscaled.gguf"), GgufType.F32));
        Assert.Equal(ModelPart.Setting, e.Part);
        Assert.Contains("scale_attn_weights false", e.Found);
    }

    [Fact]
    public void A_tokenizer_llama_cpp_cannot_split_like_names_the_ones_it_can()
    {
        var dir = CopyOf(fx.Model("llama"), "other-split");
        var path = Path.Combine(dir, TokenizerFiles.TokenizerJson);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = @"\w+|\W";
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<UnsupportedModelException>(() => GgufConverter.Convert(dir, fx.Dir.File("other-split.gguf"), GgufType.F32));
        output.WriteLine(e.Message);
        Assert.Equal(ModelPart.Tokenizer, e.Part);
        Assert.Contains(@"\w+|\W", e.Found);
        Assert.Contains(e.Supported, s => s.Contains("qwen2"));

        // A SentencePiece-style BPE (byte fallback, no ByteLevel step) is not a "gpt2" vocabulary.
        json["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁" };
        json["model"]!["byte_fallback"] = true;
        File.WriteAllText(path, json.ToJsonString());
        e = Assert.Throws<UnsupportedModelException>(() => GgufConverter.Convert(dir, fx.Dir.File("other-split.gguf"), GgufType.F32));
        Assert.Equal(ModelPart.Tokenizer, e.Part);
        Assert.Contains("Metaspace", e.Found);
    }

    [Fact]
    public void Missing_weights_name_what_was_found_and_what_is_read()
    {
        var dir = CopyOf(fx.Model("llama"), "no-weights", "model.safetensors");
        File.WriteAllText(Path.Combine(dir, "pytorch_model.bin"), "not read");
        var outFile = fx.Dir.File("no-weights.gguf");
        var e = Assert.Throws<UnsupportedModelException>(() => GgufConverter.Convert(dir, outFile, GgufType.Q8_0));
        output.WriteLine(e.Message);
        Assert.Equal(ModelPart.Weights, e.Part);
        Assert.Contains("pytorch_model.bin", e.Found);
        Assert.Contains("model.safetensors", e.Supported);
        Assert.False(File.Exists(outFile));

        var sharded = CopyOf(fx.Model("llama", "--dtype", "bf16", "--shards", "3", "--untied"), "missing-shard", "model-00002-of-00003.safetensors");
        var missing = Assert.Throws<FileNotFoundException>(() => GgufConverter.Convert(sharded, outFile, GgufType.F32));
        output.WriteLine(missing.Message);
        Assert.EndsWith("model-00002-of-00003.safetensors", missing.FileName);
    }

    [Fact]
    public void Llama_cpp_reads_the_special_and_fill_in_the_middle_ids()
    {
        var gguf = fx.Model("qwen2", "--untied") + ".vocab.gguf";
        GgufConverter.Convert(fx.Model("qwen2", "--untied"), gguf, GgufType.F32);
        using var w = LlamaCpp.LoadVocab(gguf);
        var v = w.Vocab;
        Assert.Equal(fx.Tokenizer.VocabSize, v.Count);
        Assert.Equal(LLamaVocabType.BytePairEncoding, v.Type);
        Assert.Equal(fx.Tokenizer.EndOfText, (int)v.BOS!.Value);
        Assert.Equal(fx.Tokenizer.EndOfText, (int)v.EOS!.Value);
        Assert.Equal(fx.Tokenizer.FimPrefix, (int)v.InfillPrefix!.Value);
        Assert.Equal(fx.Tokenizer.FimMiddle, (int)v.InfillMiddle!.Value);
        Assert.Equal(fx.Tokenizer.FimSuffix, (int)v.InfillSuffix!.Value);
        Assert.Equal(fx.Tokenizer.FimPad, (int)v.InfillPad!.Value);
        Assert.False(v.ShouldAddBOS);
        for (int id = 0; id < SpecialTokens.All.Count; id++) Assert.True(((LLamaToken)id).IsControl(v), $"token {id} is not a control token");
        // Special-token text is plain text unless specials are asked for, as CodeTokenizer.Encode always treats it.
        var text = "x = '<fim_prefix>' # <|endoftext|>\n";
        Assert.Equal(fx.Tokenizer.Encode(text), LlamaCpp.Tokenize(w, text));
        Assert.Equal([fx.Tokenizer.FimPrefix], w.Tokenize("<fim_prefix>", add_bos: false, special: true, System.Text.Encoding.UTF8).Select(t => (int)t));
    }

    /// <summary>
    /// llama.cpp cannot take CodeLm's split rule from the file; PreTokenizerNames.CodeLm is the closest it has. This pins
    /// how close on real code (held-out files of shared-corpus repositories, tokenizer trained on the others): text
    /// without '_' and tabs is tokenized exactly as CodeLm does; elsewhere llama.cpp splits identifiers at '_' and runs
    /// of tabs before code, so its sequences are a little longer. Numbers measured on the whole corpus: docs/model.md.
    /// </summary>
    [Fact]
    public void Llama_cpp_tokenizes_code_as_CodeLm_does_except_at_underscores_and_tab_runs()
    {
        var (train, heldOut) = CorpusTexts();
        var (tok, w) = TrainAndExport(train, SplitRule.CodeLm, "corpus");
        using var _ = w;

        long ours = 0, theirs = 0, reproduced = 0;
        int identical = 0, plain = 0;
        foreach (var text in heldOut)
        {
            var a = tok.Encode(text);
            var b = LlamaCpp.Tokenize(w, text);
            Assert.Equal(tok.Decode(a), tok.Decode(b)); // both are encodings of the same text
            ours += a.Length;
            theirs += b.Length;
            reproduced += Spans(tok, b).Intersect(Spans(tok, a)).Count();
            if (a.SequenceEqual(b)) identical++;
            if (!text.Contains('_') && !text.Contains('\t'))
            {
                plain++;
                Assert.Equal(a, b);
            }
        }
        output.WriteLine($"{heldOut.Count} held-out files ({plain} without '_' or tabs, all identical): {identical} tokenized identically; " +
                         $"{100.0 * reproduced / ours:F2}% of CodeLm's {ours} tokens reproduced; llama.cpp's sequences {100.0 * (theirs - ours) / ours:+0.00;-0.00}% longer");
        Assert.True(heldOut.Count >= 100 && plain >= 20, $"{heldOut.Count} held-out files, {plain} without '_' or tabs");
        Assert.True(reproduced >= 0.95 * ours, $"only {100.0 * reproduced / ours:F2}% of CodeLm's tokens reproduced");
        Assert.True(theirs <= 1.05 * ours, $"llama.cpp's sequences are {100.0 * (theirs - ours) / ours:F2}% longer");
    }

    /// <summary>
    /// A CodeLm tokenizer trained with Qwen2's split (`codelm tokenizer train --pre-tokenizer qwen2`) names a split
    /// llama.cpp has compiled in, so llama.cpp tokenizes every held-out file of the same repositories exactly as CodeLm.
    /// </summary>
    [Fact]
    public void A_CodeLm_tokenizer_with_the_Qwen2_split_tokenizes_in_llama_cpp_exactly_as_in_CodeLm()
    {
        var (train, heldOut) = CorpusTexts();
        var (tok, w) = TrainAndExport(train, SplitRule.Qwen2, "corpus-qwen2");
        using var _ = w;
        var differing = heldOut.Count(text => !tok.Encode(text).SequenceEqual(LlamaCpp.Tokenize(w, text)));
        var tokens = heldOut.Sum(t => (long)tok.Encode(t).Length);
        output.WriteLine($"{heldOut.Count - differing}/{heldOut.Count} held-out files ({tokens} tokens) tokenized identically by llama.cpp");
        Assert.True(heldOut.Count >= 100, $"{heldOut.Count} held-out files");
        Assert.Equal(0, differing);
        // Special-token text stays text for CodeLm's tokenizers, in both.
        const string forged = "x = '<|endoftext|><fim_prefix>'\n";
        Assert.Equal(tok.Encode(forged), LlamaCpp.Tokenize(w, forged));
        Assert.DoesNotContain(0, tok.Encode(forged));
    }

    /// <summary>Every text file of three shared-corpus repositories, every other one to train on and the rest held out.</summary>
    private (List<string> Train, List<string> HeldOut) CorpusTexts()
    {
        var files = new List<string>();
        foreach (var repo in new[] { "cobra", "requests", "express" })
        {
            var clone = fx.Dir.File("corpus-" + repo);
            lock (fx)
                if (!Directory.Exists(clone))
                {
                    var git = Proc.Run("git", ["clone", "-q", TestPaths.SharedCorpus(repo), clone]);
                    Assert.True(git.ExitCode == 0, git.Stderr);
                }
            files.AddRange(Directory.EnumerateFiles(clone, "*", SearchOption.AllDirectories)
                .Where(f => !f.Contains("/.git/") && new FileInfo(f).Length is > 0 and < 200_000).Order(StringComparer.Ordinal));
        }
        var texts = files.Select(f => File.ReadAllBytes(f)).Where(b => !b.Contains((byte)0)).Select(b => System.Text.Encoding.UTF8.GetString(b)).ToList();
        return (texts.Where((_, i) => i % 2 == 0).ToList(), texts.Where((_, i) => i % 2 == 1).ToList());
    }

    /// <summary>A 16k CodeLm tokenizer trained on <paramref name="train"/>, in a tiny model's GGUF, and llama.cpp's vocabulary of it.</summary>
    private (CodeTokenizer Tokenizer, LLama.LLamaWeights Vocab) TrainAndExport(List<string> train, SplitRule split, string name)
    {
        var tokDir = fx.Dir.File(name + "-tok");
        BpeTrainer.Train(train, new BpeTrainerOptions(VocabSize: 16384, Threads: 2, Split: split)).Save(tokDir);
        var tok = CodeTokenizer.Load(tokDir);
        var model = fx.Dir.File(name + "-model");
        RunPython(["write", "llama", model, tok.VocabSize.ToString()]);
        CopyTokenizer(tokDir, model);
        var gguf = model + ".gguf";
        Assert.Equal("qwen2", GgufConverter.Convert(model, gguf, GgufType.F32).PreTokenizer);
        return (tok, LlamaCpp.LoadVocab(gguf));
    }

    /// <summary>
    /// An open model's own tokenizer goes into the GGUF whole, so llama.cpp must tokenize as the model's tokenizer does:
    /// tokenizers in each family's layout, trained by HF tokenizers itself (tests/node-ref/hf-train-family.js; CodeLm's
    /// ids equal HF's, Tokenizer.Tests), exported with the model and compared with llama.cpp's on real code.
    /// </summary>
    [Theory]
    [InlineData("qwen2", "qwen2")]
    [InlineData("starcoder", "starcoder2")]
    [InlineData("gpt2", "gpt2")]
    [InlineData("deepseek", "llama")]
    public void Llama_cpp_tokenizes_code_as_the_models_own_tokenizer_does(string layout, string family)
    {
        var clone = fx.Dir.File("family-corpus");
        lock (fx)
            if (!Directory.Exists(clone))
                Assert.Equal(0, Proc.Run("git", ["clone", "-q", TestPaths.SharedCorpus("requests"), clone]).ExitCode);
        var files = Directory.EnumerateFiles(clone, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/.git/") && new FileInfo(f).Length is > 0 and < 100_000).Order(StringComparer.Ordinal).ToList();
        var list = fx.Dir.File($"family-{layout}.txt");
        File.WriteAllLines(list, files.Where((_, i) => i % 2 == 0));
        var tokDir = fx.Dir.File($"family-{layout}-tok");
        var node = Proc.Run("node", [Path.Combine(TestPaths.RepoRoot, "tests", "node-ref", "hf-train-family.js"), layout, list, tokDir]);
        Assert.True(node.ExitCode == 0, node.Stderr);
        var tok = CodeTokenizer.Load(tokDir);
        var model = fx.Dir.File($"family-{layout}-model");
        RunPython(["write", family, model, tok.VocabSize.ToString()]);
        foreach (var f in Directory.GetFiles(tokDir).Where(f => Path.GetFileName(f) != "config.json"))
            File.Copy(f, Path.Combine(model, Path.GetFileName(f)), overwrite: true);
        var gguf = model + ".gguf";
        GgufConverter.Convert(model, gguf, GgufType.F32);
        using var w = LlamaCpp.LoadVocab(gguf);

        int same = 0, total = 0;
        var differing = new List<string>();
        foreach (var path in files.Where((_, i) => i % 2 == 1))
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Contains((byte)0)) continue;
            var text = System.Text.Encoding.UTF8.GetString(bytes);
            total++;
            if (tok.Encode(text).SequenceEqual(LlamaCpp.Tokenize(w, text))) same++;
            else differing.Add(Path.GetFileName(path));
        }
        output.WriteLine($"{layout}: {same}/{total} held-out files tokenized identically by llama.cpp; differing: {string.Join(", ", differing)}");
        Assert.True(total >= 20, $"{total} files");
        if (layout != "deepseek") Assert.Equal(total, same);
        // llama.cpp's deepseek-coder split is its own transcription of DeepSeek's Splits and parts from HF's on some files
        // (mostly prose: .md, .rst, .yml). Pinned at what it measures (42 of 64), not hidden; docs/model.md says so.
        else Assert.True(same >= 0.6 * total, $"{same}/{total}; differing: {string.Join(", ", differing)}");
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>Each token as its (start, end) byte span in the text.</summary>
    private static HashSet<(long, long)> Spans(CodeTokenizer tok, int[] ids)
    {
        var spans = new HashSet<(long, long)>();
        long pos = 0;
        foreach (var id in ids)
        {
            long n = tok.TokenBytesOf(id).Length;
            spans.Add((pos, pos + n));
            pos += n;
        }
        return spans;
    }
}

/// <summary>The GGUF format pieces on their own: writer, Q8_0, the rope permutation, pre-tokenizer names.</summary>
public sealed class GgufFormatTests
{
    [Fact]
    public void Writer_output_reads_back_with_every_value_type_and_aligned_tensor_data()
    {
        using var tmp = new TempDir();
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        w.Add("a.u32", 7u);
        w.Add("a.i32", -3);
        w.Add("a.u64", 1UL << 40);
        w.Add("a.f32", 0.25f);
        w.Add("a.bool", true);
        w.Add("a.strings", ["x", "ünï", ""]);
        w.Add("a.ints", [1, -2, 3]);
        Assert.Throws<ArgumentException>(() => w.Add("a.u32", 1u));
        var m = Enumerable.Range(0, 3 * 64).Select(i => (float)Math.Sin(i)).ToArray();
        var bias = new[] { 1f, 2f, 3f };
        w.AddTensor("m.f32", [3, 64], GgufType.F32, () => m);
        w.AddTensor("b", [3], GgufType.F32, () => bias);
        w.AddTensor("m.f16", [3, 64], GgufType.F16, () => m);
        w.AddTensor("m.q8", [3, 64], GgufType.Q8_0, () => m);
        Assert.Throws<ArgumentException>(() => w.AddTensor("bad", [2, 48], GgufType.Q8_0, () => new float[96]));
        var path = tmp.File("t.gguf");
        w.Write(path);

        var r = new GgufReader(path);
        Assert.Equal(3u, r.Version);
        Assert.Equal("llama", r.Metadata["general.architecture"]);
        Assert.Equal(7u, r.Metadata["a.u32"]);
        Assert.Equal(-3, r.Metadata["a.i32"]);
        Assert.Equal(1UL << 40, r.Metadata["a.u64"]);
        Assert.Equal(0.25f, r.Metadata["a.f32"]);
        Assert.Equal(true, r.Metadata["a.bool"]);
        Assert.Equal(new object[] { "x", "ünï", "" }, (object[])r.Metadata["a.strings"]);
        Assert.Equal(new object[] { 1, -2, 3 }, (object[])r.Metadata["a.ints"]);
        Assert.Equal(0, r.DataStart % 32);
        Assert.All(r.Tensors, t => Assert.Equal(0, t.Offset % 32));
        Assert.Equal([64L, 3], r.Find("m.f32").Dims); // innermost first
        Assert.Equal((0u, 1u, 8u), (r.Find("m.f32").Type, r.Find("m.f16").Type, r.Find("m.q8").Type));
        Assert.Equal(MemoryMarshal.AsBytes(m.AsSpan()).ToArray(), r.Data("m.f32", m.Length * 4).ToArray());
        Assert.Equal(MemoryMarshal.AsBytes(bias.AsSpan()).ToArray(), r.Data("b", 12).ToArray());
        var halves = r.Data("m.f16", m.Length * 2);
        for (int i = 0; i < m.Length; i++) Assert.Equal((Half)m[i], BinaryPrimitives.ReadHalfLittleEndian(halves[(2 * i)..]));
        var q = new byte[6 * 34];
        Q8_0.Quantize(m, q);
        Assert.Equal(q, r.Data("m.q8", q.Length).ToArray());
    }

    [Fact]
    public void A_failed_write_leaves_no_file()
    {
        using var tmp = new TempDir();
        var w = new GgufWriter();
        w.AddTensor("t", [4], GgufType.F32, () => throw new IOException("source gone"));
        Assert.Throws<IOException>(() => w.Write(tmp.File("x.gguf")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [Fact]
    public void Q8_0_follows_ggmls_reference_rule()
    {
        // amax 127 gives d = 1: x·(1/d) ties round away from zero (2.5 → 3, -2.5 → -3), not to even.
        var x = new float[64];
        x[0] = 127; x[1] = 2.5f; x[2] = -2.5f; x[3] = 0.49f; x[4] = -127;
        for (int i = 32; i < 64; i++) x[i] = 0; // an all-zero block: d = 0, q = 0
        var blocks = new byte[2 * Q8_0.BlockBytes];
        Q8_0.Quantize(x, blocks);
        Assert.Equal((Half)1, BinaryPrimitives.ReadHalfLittleEndian(blocks));
        Assert.Equal(new sbyte[] { 127, 3, -3, 0, -127 }, blocks[2..7].Select(b => (sbyte)b));
        Assert.All(blocks[Q8_0.BlockBytes..], b => Assert.Equal(0, b));

        var rng = new Random(5);
        var y = Enumerable.Range(0, 320).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        var qy = new byte[10 * Q8_0.BlockBytes];
        Q8_0.Quantize(y, qy);
        var back = new float[y.Length];
        Q8_0.Dequantize(qy, back);
        for (int b = 0; b < 10; b++)
        {
            float d = y.Skip(b * 32).Take(32).Max(MathF.Abs) / 127;
            for (int i = b * 32; i < b * 32 + 32; i++) Assert.True(Math.Abs(back[i] - y[i]) <= d * 0.51 + 1e-3, $"{i}: {back[i]} vs {y[i]}");
        }
    }

    [Fact]
    public void Rope_permutation_interleaves_the_halves_of_each_head()
    {
        // 2 heads of 4 rows, 1 column: each head's rows [0 1 | 2 3] become [0 2 1 3].
        Assert.Equal([0f, 2, 1, 3, 4, 6, 5, 7], RopePermutation.Interleave([0f, 1, 2, 3, 4, 5, 6, 7], heads: 2, columns: 1));
        // Rows move whole.
        Assert.Equal([0f, 1, 4, 5, 2, 3, 6, 7], RopePermutation.Interleave([0f, 1, 2, 3, 4, 5, 6, 7], heads: 1, columns: 2));
    }

    [Fact]
    public void Pre_tokenizer_names_follow_the_tokenizer_json_steps()
    {
        JsonNode Split(string regex) => new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = regex }, ["behavior"] = "Isolated", ["invert"] = false };
        JsonNode ByteLevel(bool regex) => new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = regex };
        JsonNode Seq(params JsonNode[] steps) => new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(steps) };
        var digits = new JsonObject { ["type"] = "Digits", ["individual_digits"] = true };
        const string qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

        Assert.Equal("gpt-2", PreTokenizerNames.Find(new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false }));
        Assert.Equal("starcoder", PreTokenizerNames.Find(Seq(digits, ByteLevel(true))));
        Assert.Equal("qwen2", PreTokenizerNames.Find(Seq(Split(qwen2), ByteLevel(false))));
        Assert.Equal("llama-bpe", PreTokenizerNames.Find(Seq(Split(qwen2.Replace(@"\p{N}|", @"\p{N}{1,3}|")), ByteLevel(false))));
        // DeepSeek-Coder's published steps (tests/node-ref/hf-train-family.js writes them in full), its letter class cut short
        Assert.Equal("deepseek-coder", PreTokenizerNames.Find(Seq(Split(@"[\r\n]"), Split(@"\s?[A-Za-zµÀ-ÖØ-ö]+"), Split(@"\s?[!-/:-~！-／：-～‘-‟　-。]+"),
            Split(@"\s+$"), Split("[一-龥ࠀ-一가-퟿]+"), digits.DeepClone(), ByteLevel(false))));
        using var tmp = new TempDir();
        TestData.Tokenizer(tmp.Path);
        var codeLm = JsonNode.Parse(File.ReadAllText(tmp.File(TokenizerFiles.TokenizerJson)))!["pre_tokenizer"];
        Assert.Equal(PreTokenizerNames.CodeLm, PreTokenizerNames.Find(codeLm));
        Assert.Null(PreTokenizerNames.Find(Seq(Split(@"\w+"), ByteLevel(false))));
        Assert.Null(PreTokenizerNames.Find(Seq(digits.DeepClone(), ByteLevel(false)))); // digits, but no GPT-2 regex after them
    }
}
