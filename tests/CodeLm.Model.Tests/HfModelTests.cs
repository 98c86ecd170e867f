using System.Runtime.InteropServices;
using CodeLm.Model.Hf;
using CodeLm.Tests;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

/// <summary>
/// Hugging Face model folders of every supported family, written by an independent Python writer (hf_tiny_models.py,
/// python3-torch, no transformers), loaded by CodeLm and checked logit by logit against that script's own forward,
/// which follows the transformers conventions (rotate_half RoPE, repeat_kv, Conv1D, biases).
/// </summary>
public class HfModelTests
{
    private const int Vocab = 300;
    private static readonly int[] Ids = Enumerable.Range(0, 200).Select(i => (i * 37 + 11) % Vocab).ToArray();

    [Theory]
    [InlineData("llama")]
    [InlineData("mistral")]
    [InlineData("qwen2")]
    [InlineData("starcoder2")]
    [InlineData("gpt2")]
    [InlineData("gpt_bigcode")]
    public void Every_family_matches_the_reference_forward_in_float32(string family)
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write(family, tmp.File(family), Vocab);
        var (diff, scale) = Compare(dir, tmp);
        Assert.True(scale > 1, $"logits too small to compare ({scale})");
        Assert.True(diff < 1e-4, $"{family}: max |CodeLm - reference| = {diff}");
    }

    [Fact]
    public void Sharded_bfloat16_weights_with_an_untied_head_and_linear_rope_scaling_load_and_match()
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write("qwen2", tmp.File("q"), Vocab, "--dtype", "bf16", "--shards", "3", "--untied", "--rope-scale", "2");
        Assert.True(File.Exists(Path.Combine(dir, SafeTensorsIndex.IndexFile)));
        var config = Checkpoint.LoadConfig(dir);
        Assert.False(config.TiedHead);
        Assert.Equal(2, config.RopeScale);
        var (diff, _) = Compare(dir, tmp);
        Assert.True(diff < 1e-4, $"max |CodeLm - reference| = {diff}");
    }

    [Fact]
    public void A_gpt2_folder_saved_without_the_transformer_prefix_loads_the_same()
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write("gpt2", tmp.File("gpt2"), Vocab);
        var expected = HfTiny.Forward(dir, Ids, tmp.File("logits.bin"));
        var path = Path.Combine(dir, SafeTensorsIndex.SingleFile);
        var (tensors, _) = SafeTensors.Load(path);
        SafeTensors.Save(path, tensors.Select(kv => (kv.Key["transformer.".Length..], kv.Value)).ToList()); // as openai-community/gpt2 stores them
        foreach (var t in tensors.Values) t.Dispose();
        var (model, _) = Checkpoint.LoadModel(dir, CPU);
        using (model)
        {
            var (diff, _) = Against(model, Ids, expected);
            Assert.True(diff < 1e-4, $"max |CodeLm - reference| = {diff}");
        }
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt_bigcode")]
    public void Decoding_with_the_kv_cache_gives_the_full_forward_logits(string family)
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write(family, tmp.File(family), Vocab);
        var (model, config) = Checkpoint.LoadModel(dir, CPU);
        using (model)
        using (no_grad())
        {
            using var all = model.forward(tensor(Ids.Take(40).Select(i => (long)i).ToArray(), [1, 40]));
            using var cache = new KvCache(config, 1, 64, CPU);
            using var prefill = model.forward(tensor(Ids.Take(30).Select(i => (long)i).ToArray(), [1, 30]), cache);
            for (int t = 30; t < 40; t++)
            {
                using var step = model.forward(tensor(new long[] { Ids[t] }, [1, 1]), cache);
                var diff = (step[0, 0] - all[0, t]).abs().max().item<float>();
                Assert.True(diff < 1e-4, $"position {t}: {diff}");
            }
        }
    }

    [Fact]
    public void An_unsupported_model_type_names_what_is_supported()
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write("llama", tmp.File("m"), Vocab);
        var json = File.ReadAllText(Path.Combine(dir, "config.json")).Replace("\"llama\"", "\"mamba\"").Replace("LlamaForCausalLM", "MambaForCausalLM");
        File.WriteAllText(Path.Combine(dir, "config.json"), json);
        var e = Assert.Throws<UnsupportedModelException>(() => Checkpoint.LoadModel(dir, CPU));
        Assert.Equal(ModelPart.ModelType, e.Part);
        Assert.Equal("mamba (MambaForCausalLM)", e.Found);
        Assert.Contains("supported: llama, mistral, qwen2, starcoder2, gpt2, gpt_bigcode", e.Message);
    }

    [Fact]
    public void Missing_or_mismatched_weights_are_named()
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write("llama", tmp.File("m"), Vocab);
        File.Move(Path.Combine(dir, "model.safetensors"), Path.Combine(dir, "weights.bin"));
        var e = Assert.Throws<UnsupportedModelException>(() => Checkpoint.LoadModel(dir, CPU));
        Assert.Equal(ModelPart.Weights, e.Part);
        Assert.Contains("model.safetensors", e.Supported);

        var other = HfTiny.Write("llama", tmp.File("n"), Vocab, "--untied");
        var config = File.ReadAllText(Path.Combine(other, "config.json")).Replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true");
        File.WriteAllText(Path.Combine(other, "config.json"), config.Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        var m = Assert.Throws<InvalidDataException>(() => Checkpoint.LoadModel(other, CPU));
        Assert.Contains("model.layers.2.", m.Message);
    }

    [Fact]
    public void Float16_weights_are_widened_from_the_mapping_exactly()
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write("starcoder2", tmp.File("s"), Vocab, "--dtype", "f16");
        var (diff, _) = Compare(dir, tmp);
        Assert.True(diff < 1e-4, $"max |CodeLm - reference| = {diff}");
    }

    [Fact]
    public void A_truncated_weights_file_is_a_clear_error_not_a_crash()
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write("llama", tmp.File("m"), Vocab, "--dtype", "bf16");
        var path = Path.Combine(dir, SafeTensorsIndex.SingleFile);
        var entries = SafeTensors.ReadHeader(path).Entries;
        var last = entries.MaxBy(e => e.Offset)!;
        using (var f = new FileStream(path, FileMode.Open)) f.SetLength(last.Offset + last.Length / 2);

        // Cut before loading: the header no longer fits the file.
        var atLoad = Assert.Throws<InvalidDataException>(() => Checkpoint.LoadModel(dir, CPU));
        Assert.Contains(last.Name, atLoad.Message);
        Assert.Contains("truncated", atLoad.Message);
        // Cut after the header was read (a download still being written): refused before the mapping is touched,
        // where reading past the end of the file would be a bus error.
        var afterHeader = Assert.Throws<InvalidDataException>(() => SafeTensors.ReadTensor(path, last));
        Assert.Contains($"'{last.Name}' is cut short", afterHeader.Message);
        using var whole = SafeTensors.ReadTensor(path, entries.MinBy(e => e.Offset)!); // what is still there reads
        Assert.Equal(entries.MinBy(e => e.Offset)!.Shape, whole.shape);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("starcoder2")]
    [InlineData("gpt2")]
    [InlineData("gpt_bigcode")]
    public void Exporting_a_model_folder_gives_back_the_same_weight_bytes(string family)
    {
        using var tmp = new TempDir();
        var tok = TestData.Tokenizer(tmp.File("tok"));
        var dir = HfTiny.WriteWithTokenizer(family, tmp.File(family), tok, "--dtype", "bf16", "--shards", "2");
        HfExport.Export(dir, tmp.File("back"));
        AssertSameWeights(dir, tmp.File("back"), asFloat32: false);
        Assert.Equal(Checkpoint.LoadConfig(dir), Checkpoint.LoadConfig(tmp.File("back")));
    }

    [Fact]
    public void A_model_folder_saved_as_a_CodeLm_checkpoint_exports_to_the_same_family_and_values()
    {
        using var tmp = new TempDir();
        var tok = TestData.Tokenizer(tmp.File("tok"));
        var dir = HfTiny.WriteWithTokenizer("qwen2", tmp.File("q"), tok, "--dtype", "bf16", "--untied");
        var (model, config, _) = Checkpoint.Load(dir, CPU);
        using (model) Checkpoint.Save(tmp.File("ckpt"), model, Checkpoint.TokenizerDirOf(dir));
        Assert.False(File.Exists(Path.Combine(tmp.File("ckpt"), "tokenizer", "model.safetensors")));
        HfExport.Export(tmp.File("ckpt"), tmp.File("back"));
        Assert.Contains("Qwen2ForCausalLM", File.ReadAllText(Path.Combine(tmp.File("back"), "config.json")));
        Assert.Equal(config, Checkpoint.LoadConfig(tmp.File("back")));
        AssertSameWeights(dir, tmp.File("back"), asFloat32: true);
    }

    [Fact]
    public void A_llama_style_preset_exports_as_LlamaForCausalLM_that_the_reference_forward_reads()
    {
        using var tmp = new TempDir();
        var tok = TestData.Tokenizer(tmp.File("tok"));
        manual_seed(5);
        var config = new GptConfig(tok.VocabSize, 64, 2, 4, 32).AsLlama() with { KvHeads = 2 };
        using var model = new Gpt(config);
        using (no_grad())
            foreach (var p in model.parameters()) p.add_(randn_like(p) * 0.3);
        model.eval();
        Checkpoint.Save(tmp.File("ckpt"), model, tok.Directory);
        HfExport.Export(tmp.File("ckpt"), tmp.File("hf"));
        Assert.Contains("LlamaForCausalLM", File.ReadAllText(Path.Combine(tmp.File("hf"), "config.json")));
        var ids = Ids.Take(60).Select(i => i % tok.VocabSize).ToArray();
        var (diff, _) = Against(model, ids, HfTiny.Forward(tmp.File("hf"), ids, tmp.File("logits.bin")));
        Assert.True(diff < 1e-4, $"max |CodeLm - reference| = {diff}");
    }

    private static void AssertSameWeights(string original, string exported, bool asFloat32)
    {
        var a = SafeTensorsIndex.Open(original);
        var b = SafeTensorsIndex.Open(exported);
        Assert.Equal(a.Names.Order(), b.Names.Order());
        foreach (var name in a.Names)
        {
            using var x = a.Read(name);
            using var y = b.Read(name);
            using var xs = asFloat32 ? x.to(ScalarType.Float32) : x.alias();
            Assert.Equal(xs.dtype, y.dtype);
            Assert.Equal(xs.shape, y.shape);
            Assert.True(xs.bytes.SequenceEqual(y.bytes), $"{name} differs");
        }
    }

    private static (double MaxDiff, double Scale) Compare(string dir, TempDir tmp)
    {
        var theirs = HfTiny.Forward(dir, Ids, tmp.File("logits.bin"));
        var (model, _) = Checkpoint.LoadModel(dir, CPU);
        using (model) return Against(model, Ids, theirs);
    }

    /// <summary>The largest gap between the model's logits for <paramref name="ids"/> and the reference's, and the reference's scale.</summary>
    private static (double MaxDiff, double Scale) Against(Gpt model, IReadOnlyList<int> ids, float[] theirs)
    {
        using var _ = no_grad();
        using var logits = model.forward(tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Count])).contiguous();
        var ours = MemoryMarshal.Cast<byte, float>(logits.bytes.ToArray());
        Assert.Equal(theirs.Length, ours.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < ours.Length; i++) { diff = Math.Max(diff, Math.Abs(ours[i] - theirs[i])); scale = Math.Max(scale, Math.Abs(theirs[i])); }
        return (diff, scale);
    }
}

/// <summary>Runs tests/CodeLm.Model.Tests/hf_tiny_models.py with Debian's python3-torch.</summary>
public static class HfTiny
{
    private const string Python = "/usr/bin/python3";
    private static string Script => Path.Combine(AppContext.BaseDirectory, "hf_tiny_models.py");

    /// <summary>A model folder with <paramref name="tokenizer"/>'s vocabulary and its tokenizer.json, as a downloaded one has.</summary>
    public static string WriteWithTokenizer(string family, string dir, CodeLm.Tokenizer.CodeTokenizer tokenizer, params string[] options)
    {
        Write(family, dir, tokenizer.VocabSize, options);
        File.Copy(Path.Combine(tokenizer.Directory, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
        return dir;
    }

    public static string Write(string family, string dir, int vocab, params string[] options)
    {
        Torch.Init();
        PythonTorch.Ensure();
        Run(["write", family, dir, vocab.ToString(), .. options]);
        return dir;
    }

    /// <param name="adapter">A PEFT LoRA adapter folder the script applies to the weights itself.</param>
    public static float[] Forward(string dir, IReadOnlyList<int> ids, string outFile, string? adapter = null)
    {
        var idsFile = outFile + ".ids";
        File.WriteAllText(idsFile, string.Join(' ', ids));
        Run(adapter == null ? ["forward", dir, idsFile, outFile] : ["forward", dir, idsFile, outFile, "--adapter", adapter]);
        return MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(outFile)).ToArray();
    }

    public static int[] Greedy(string dir, IReadOnlyList<int> ids, int n, string outFile)
    {
        var idsFile = outFile + ".ids";
        File.WriteAllText(idsFile, string.Join(' ', ids));
        Run(["greedy", dir, idsFile, n.ToString(), outFile]);
        return File.ReadAllText(outFile).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
    }

    private static void Run(string[] args)
    {
        var r = Proc.Run(Python, [Script, .. args]);
        Assert.True(r.ExitCode == 0, $"hf_tiny_models.py {string.Join(' ', args)}: {r.Stderr}{r.Stdout}");
    }
}
