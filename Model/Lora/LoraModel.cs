using CodeLm.Common;
using CodeLm.Model.Hf;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model.Lora;

/// <summary>A planned LoRA part: which rows of which CodeLm layer, adapting which Hugging Face module.</summary>
public sealed record LoraPlanPart(string Layer, int Offset, int Rows, int Inputs, string HfModule, LoraTarget Target);

/// <summary>
/// Puts LoRA on a model (everything else frozen), and folds it back in. Which rows of CodeLm's stacked layers are which
/// projection comes from <see cref="HfWeightNames"/>, the one map between CodeLm's and the family's names, so an adapter
/// names the same modules PEFT would on the Hugging Face model.
/// </summary>
public static class LoraModel
{
    /// <summary>The parts <paramref name="o"/> asks for on a <paramref name="family"/> model shaped <paramref name="c"/>.</summary>
    public static IReadOnlyList<LoraPlanPart> Plan(GptConfig c, HfFamily family, LoraOptions o)
    {
        var map = HfWeightNames.Map(family, c);
        var parts = new List<LoraPlanPart>();
        for (int i = 0; i < c.Layers; i++)
            foreach (var layer in new[] { "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj" })
            {
                var name = $"h.{i}.{layer}";
                var modules = map[name + ".weight"].Names.Select(n => n[..^".weight".Length]).ToList();
                var (rows, inputs) = Shape(c, layer);
                var split = Split(c, layer, modules.Count, rows);
                for (int k = 0, at = 0; k < modules.Count; at += split[k], k++)
                {
                    var target = TargetOf(modules[k]);
                    if ((target & o.Targets) != 0) parts.Add(new LoraPlanPart(name, at, split[k], inputs, modules[k], target));
                }
            }
        return parts;
    }

    /// <summary>Parameters a LoRA run trains: the parts' A and B, and the embeddings when asked.</summary>
    public static long TrainableCount(GptConfig c, HfFamily family, LoraOptions o) =>
        Plan(c, family, o).Sum(p => (long)o.Rank * (p.Inputs + p.Rows))
        + (o.TrainEmbeddings ? (long)c.VocabSize * c.Embedding * (c.TiedHead ? 1 : 2) : 0);

    /// <summary>Freezes <paramref name="model"/> and wraps each planned layer in a <see cref="LoraLinear"/>. Seed torch first.</summary>
    public static void Apply(Gpt model, HfFamily family, LoraOptions o)
    {
        o.Validate();
        var plan = Plan(model.Config, family, o);
        if (plan.Count == 0)
            throw new OptionException(nameof(LoraOptions.Targets), $"({o.Targets}) matches no projection of this {family} model.");
        foreach (var p in model.parameters()) p.requires_grad = false;
        var byLayer = plan.GroupBy(p => p.Layer).ToDictionary(g => g.Key, g => g.ToList());
        for (int i = 0; i < model.Config.Layers; i++)
        {
            var (attn, mlp) = (model.Blocks[i].Attention, model.Blocks[i].Mlp);
            attn.c_attn = Wrap(attn, "c_attn", attn.c_attn, byLayer.GetValueOrDefault($"h.{i}.attn.c_attn"), o);
            attn.c_proj = Wrap(attn, "c_proj", attn.c_proj, byLayer.GetValueOrDefault($"h.{i}.attn.c_proj"), o);
            mlp.c_fc = Wrap(mlp, "c_fc", mlp.c_fc, byLayer.GetValueOrDefault($"h.{i}.mlp.c_fc"), o);
            mlp.c_proj = Wrap(mlp, "c_proj", mlp.c_proj, byLayer.GetValueOrDefault($"h.{i}.mlp.c_proj"), o);
        }
        if (o.TrainEmbeddings)
        {
            model.TokenEmbedding.requires_grad = true;
            if (model.HeadWeight is { } head) head.requires_grad = true;
        }
    }

    /// <summary>The LoRA layers of <paramref name="model"/>, by CodeLm layer name (h.0.attn.c_attn, ...).</summary>
    public static IEnumerable<(string Layer, LoraLinear Linear)> Layers(Gpt model)
    {
        for (int i = 0; i < model.Config.Layers; i++)
        {
            var (attn, mlp) = (model.Blocks[i].Attention, model.Blocks[i].Mlp);
            foreach (var (name, layer) in new[] { ("attn.c_attn", attn.c_attn), ("attn.c_proj", attn.c_proj), ("mlp.c_fc", mlp.c_fc), ("mlp.c_proj", mlp.c_proj) })
                if (layer is LoraLinear lora) yield return ($"h.{i}.{name}", lora);
        }
    }

    /// <summary>Folds every update into its layer's weight (W + scale·B·A): a plain model again, trainable throughout.</summary>
    public static void Merge(Gpt model)
    {
        for (int i = 0; i < model.Config.Layers; i++)
        {
            var (attn, mlp) = (model.Blocks[i].Attention, model.Blocks[i].Mlp);
            if (attn.c_attn is LoraLinear a) attn.c_attn = ModuleSwap.Replace(attn, "c_attn", a.Merged());
            if (attn.c_proj is LoraLinear b) attn.c_proj = ModuleSwap.Replace(attn, "c_proj", b.Merged());
            if (mlp.c_fc is LoraLinear c) mlp.c_fc = ModuleSwap.Replace(mlp, "c_fc", c.Merged());
            if (mlp.c_proj is LoraLinear d) mlp.c_proj = ModuleSwap.Replace(mlp, "c_proj", d.Merged());
        }
        foreach (var p in model.parameters()) p.requires_grad = true;
    }

    private static nn.Module<Tensor, Tensor> Wrap(nn.Module parent, string name, nn.Module<Tensor, Tensor> layer, List<LoraPlanPart>? parts, LoraOptions o)
    {
        if (parts == null) return layer;
        if (layer is not Linear linear) throw new InvalidOperationException($"LoRA wraps plain linear layers, not {layer.GetType().Name} (already adapted or prepared for inference?).");
        var wrapped = new LoraLinear(linear, parts.Select(p => new LoraPart(p.Offset, p.Rows, p.Inputs, o.Rank, p.HfModule, p.Target)), o.Scale, o.Dropout);
        return ModuleSwap.Replace(parent, name, wrapped);
    }

    private static (int Rows, int Inputs) Shape(GptConfig c, string layer) => layer switch
    {
        "attn.c_attn" => (c.QkvWidth, c.Embedding),
        "attn.c_proj" => (c.Embedding, c.Heads * c.HeadDim),
        "mlp.c_fc" => (c.Mlp == MlpKind.SwiGlu ? 2 * c.Hidden : c.Hidden, c.Embedding),
        _ => (c.Embedding, c.Hidden),
    };

    // How a stacked layer's rows divide between the family's modules: q, k, v; or gate, up.
    private static int[] Split(GptConfig c, string layer, int modules, int rows) => modules switch
    {
        1 => [rows],
        3 => [c.Heads * c.HeadDim, c.KvHeadCount * c.HeadDim, c.KvHeadCount * c.HeadDim],
        2 => [c.Hidden, c.Hidden],
        _ => throw new InvalidOperationException($"{layer} stacks {modules} modules; no LoRA layout for that."),
    };

    private static LoraTarget TargetOf(string hfModule)
    {
        var parts = hfModule.Split('.');
        return (parts[^2], parts[^1]) switch
        {
            (_, "q_proj") => LoraTarget.Query,
            (_, "k_proj") => LoraTarget.Key,
            (_, "v_proj") => LoraTarget.Value,
            (_, "o_proj") or ("attn", "c_proj") => LoraTarget.Output,
            (_, "gate_proj") => LoraTarget.Gate,
            (_, "up_proj") or ("mlp", "c_fc") => LoraTarget.Up,
            (_, "down_proj") or ("mlp", "c_proj") => LoraTarget.Down,
            ("attn", "c_attn") => LoraTarget.Query | LoraTarget.Key | LoraTarget.Value, // GPT-2's fused q, k, v
            _ => throw new InvalidOperationException($"No LoRA target for the module '{hfModule}'."),
        };
    }
}
