using System.Runtime.InteropServices;
using CodeLm.Common;
using CodeLm.Model.Hf;
using CodeLm.Model.Lora;
using CodeLm.Tests;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

/// <summary>
/// LoRA on real models: the adapted forward, the merge (W + scale·B·A), training that moves only the adapter, and the
/// PEFT files read back by an independent Python reader (hf_tiny_models.py applies PEFT's formula itself).
/// </summary>
public class LoraTests
{
    private static readonly int[] Ids = Enumerable.Range(0, 40).Select(i => (i * 37 + 11) % 300).ToArray();
    private static readonly LoraOptions Options = new() { Rank = 4, Alpha = 8, Dropout = 0 };

    [Fact]
    public void Merged_weights_are_the_base_plus_the_scaled_product_and_compute_as_the_adapted_model()
    {
        Torch.Init();
        manual_seed(3);
        var config = new GptConfig(300, 64, 2, 4, 64).AsLlama() with { KvHeads = 2, QkvBias = true };
        using var model = new Gpt(config);
        var base0 = model.Blocks[0].Attention.c_attn is TorchSharp.Modules.Linear l ? l.weight!.detach().clone() : throw new InvalidOperationException();
        LoraModel.Apply(model, HfFamily.Qwen2, Options);
        model.eval();
        Randomize(model);
        using var adapted = Logits(model);

        var attn = (LoraLinear)model.Blocks[0].Attention.c_attn;
        Assert.Equal(3, attn.Parts.Count); // q, k, v, each its own PEFT module
        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj"], attn.Parts.Select(p => p.HfModule));
        var expected = base0.clone();
        foreach (var p in attn.Parts) expected.narrow(0, p.Offset, p.Rows).add_(p.Delta().detach() * Options.Scale);

        LoraModel.Merge(model);
        var merged = ((TorchSharp.Modules.Linear)model.Blocks[0].Attention.c_attn).weight!;
        Assert.True((merged - expected).abs().max().item<float>() <= 1e-6);
        using var plain = Logits(model);
        Assert.True((plain - adapted).abs().max().item<float>() <= 1e-5, "merged and adapted models compute differently");
    }

    [Fact]
    public void A_fresh_adapter_leaves_the_model_as_it_was_and_training_moves_only_the_adapter()
    {
        Torch.Init();
        manual_seed(4);
        using var model = new Gpt(new GptConfig(300, 64, 2, 4, 64).AsLlama());
        model.eval();
        using var before = Logits(model);
        var frozen = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        LoraModel.Apply(model, HfFamily.Llama, Options with { Targets = LoraTarget.Query | LoraTarget.Value | LoraTarget.Down });
        using (var same = Logits(model)) Assert.Equal(0f, (same - before).abs().max().item<float>());

        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        Assert.Equal(2 * 3 * 2, trainable.Count); // A and B, for q, v and down, in 2 layers
        Assert.Equal(trainable.Sum(p => p.numel()), LoraModel.TrainableCount(model.Config, HfFamily.Llama, Options with { Targets = LoraTarget.Query | LoraTarget.Value | LoraTarget.Down }));
        model.train();
        var optimizer = new Training.AdamW(model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, (Tensor)p.parameter)), 0);
        using var x = tensor(Ids.Take(32).Select(i => (long)i).ToArray(), [1, 32]);
        using var y = tensor(Ids.Skip(1).Take(32).Select(i => (long)i).ToArray(), [1, 32]);
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            var loss = model.Loss(x, y);
            loss.backward();
            optimizer.Update(trainable.Select(p => p.grad!).ToList(), 1e-2);
            model.zero_grad();
            if (step == 0) first = loss.item<float>(); else last = loss.item<float>();
        }
        Assert.True(last < first - 0.5, $"loss {first} -> {last}");
        foreach (var (name, p) in model.named_parameters().Where(p => frozen.ContainsKey(p.name)))
            Assert.True((p.detach() - frozen[name]).abs().max().item<float>() == 0, $"{name} changed");
    }

    [Fact]
    public void An_adapter_in_PEFT_format_gives_the_same_logits_in_an_independent_reader()
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write("qwen2", tmp.File("q"), 300, "--untied");
        var (model, config) = Checkpoint.LoadModel(dir, CPU);
        using (model)
        {
            manual_seed(5);
            var options = Options with { TrainEmbeddings = true };
            LoraModel.Apply(model, HfFamily.Qwen2, options);
            Randomize(model);
            using (no_grad()) model.TokenEmbedding.add_(randn_like(model.TokenEmbedding) * 0.1);
            model.eval();
            var adapter = tmp.File("adapter");
            Directory.CreateDirectory(adapter);
            PeftAdapter.Save(adapter, model, HfFamily.Qwen2, options, BaseModel.Of(dir));
            Assert.Equal(options, PeftAdapter.ReadOptions(adapter));

            var theirs = HfTiny.Forward(dir, Ids, tmp.File("logits.bin"), adapter);
            using var ours = Logits(model);
            var flat = MemoryMarshal.Cast<byte, float>(ours.contiguous().bytes.ToArray());
            Assert.Equal(theirs.Length, flat.Length);
            var diff = flat.ToArray().Zip(theirs).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(diff < 1e-4, $"max |CodeLm - PEFT formula| = {diff}");

            // Loaded back through the checkpoint path, the adapter is folded into its base.
            File.WriteAllText(Path.Combine(adapter, Checkpoint.ConfigFile), config.ToJson());
            var (merged, _) = Checkpoint.LoadModel(adapter, CPU);
            using (merged)
            using (var again = Logits(merged))
                Assert.True((again - ours).abs().max().item<float>() < 1e-4);
        }
    }

    [Fact]
    public void An_adapter_refuses_another_base_and_targets_that_match_nothing()
    {
        using var tmp = new TempDir();
        var dir = HfTiny.Write("qwen2", tmp.File("q"), 300);
        var other = HfTiny.Write("qwen2", tmp.File("other"), 300, "--seed", "2");
        var (model, config) = Checkpoint.LoadModel(dir, CPU);
        using (model)
        {
            LoraModel.Apply(model, HfFamily.Qwen2, Options);
            var adapter = tmp.File("adapter");
            Directory.CreateDirectory(adapter);
            PeftAdapter.Save(adapter, model, HfFamily.Qwen2, Options, BaseModel.Of(dir));
            File.WriteAllText(Path.Combine(adapter, Checkpoint.ConfigFile), config.ToJson());
            // Moved together, base and adapter still find each other (by the relative path the adapter recorded).
            var moved = tmp.File("moved");
            Directory.CreateDirectory(moved);
            Directory.Move(dir, Path.Combine(moved, "q"));
            Directory.Move(adapter, Path.Combine(moved, "adapter"));
            using (Checkpoint.LoadModel(Path.Combine(moved, "adapter"), CPU).Model) { }
            adapter = Path.Combine(moved, "adapter");
            var wrong = BaseModel.Read(adapter) with { Path = other, RelativePath = null };
            wrong.Save(adapter);
            var e = Assert.Throws<AdapterBaseException>(() => Checkpoint.LoadModel(adapter, CPU));
            Assert.Contains("is not the base model it was trained on", e.Message);
        }
        using var gpt = new Gpt(new GptConfig(300, 64, 2, 4, 64));
        var none = Assert.Throws<OptionException>(() => LoraModel.Apply(gpt, HfFamily.Gpt2, Options with { Targets = LoraTarget.Gate }));
        Assert.Equal(nameof(LoraOptions.Targets), none.Option);
    }

    private static Tensor Logits(Gpt model)
    {
        using var _ = no_grad();
        using var ids = tensor(Ids.Select(i => (long)i).ToArray(), [1, Ids.Length]);
        return model.forward(ids)[0].detach().clone();
    }

    // B starts at zero; a trained adapter's is not.
    private static void Randomize(Gpt model)
    {
        using var _ = no_grad();
        foreach (var (_, layer) in LoraModel.Layers(model))
            foreach (var p in layer.Parts) p.LoraB.add_(randn_like(p.LoraB) * 0.05);
    }
}
