using CodeLm.Tests;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

public class ExportTests
{
    private const string Python = PythonTorch.Python;

    [Fact]
    public void Hf_export_is_read_by_an_independent_python_gpt2_forward_with_matching_logits()
    {
        Torch.Init();
        PythonTorch.Ensure();
        using var tmp = new TempDir();
        var tok = TestData.Tokenizer(tmp.File("tok"));
        manual_seed(11);
        var config = new GptConfig(tok.VocabSize, ContextLength: 64, Layers: 2, Heads: 4, Embedding: 32);
        using var model = new Gpt(config);
        using (no_grad())
            foreach (var p in model.parameters()) p.add_(randn_like(p) * 0.3); // large weights: logits of order 1-10
        model.eval();
        var ckpt = tmp.File("ckpt");
        Checkpoint.Save(ckpt, model, tok.Directory);
        var export = tmp.File("hf");
        HfExport.Export(ckpt, export);
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(export, f)), f);

        var ids = tok.Encode(TestData.Documents(1, 3)[0]).Take(48).ToArray();
        File.WriteAllText(tmp.File("ids.txt"), string.Join(' ', ids));
        var script = Path.Combine(AppContext.BaseDirectory, "hf_gpt2_reader.py");
        var r = Proc.Run(Python, [script, export, tmp.File("ids.txt"), tmp.File("logits.bin")]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);

        var theirs = File.ReadAllBytes(tmp.File("logits.bin"));
        using var ours = model.forward(tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length])).contiguous();
        var oursBytes = ours.bytes.ToArray();
        Assert.Equal(oursBytes.Length, theirs.Length);
        var a = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(oursBytes);
        var b = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(theirs);
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < a.Length; i++) { maxDiff = Math.Max(maxDiff, Math.Abs(a[i] - b[i])); maxAbs = Math.Max(maxAbs, Math.Abs(a[i])); }
        Assert.True(maxAbs > 1, $"logits too small to be a meaningful comparison ({maxAbs})");
        Assert.True(maxDiff < 1e-4, $"max |ours - python| = {maxDiff}");
    }
}
