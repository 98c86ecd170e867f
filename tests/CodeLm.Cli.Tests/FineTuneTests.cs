using CodeLm.Model;
using CodeLm.Tests;
using static TorchSharp.torch;

namespace CodeLm.Cli.Tests;

/// <summary>
/// The fine-tuning loop through the real `codelm`: shards made with a Hugging Face model's own tokenizer, a LoRA run on
/// that model, the adapter sampled from and exported merged, and the refusals a user meets on the way.
/// </summary>
public sealed class FineTuneTests(TinyQwenFolder folder) : IClassFixture<TinyQwenFolder>
{
    [Fact]
    public void A_lora_run_on_a_model_folder_checkpoints_the_adapter_samples_and_exports_merged()
    {
        using var tmp = new TempDir();
        var shards = DataTokenizeTests.Tokenize(tmp, folder.Dir);
        var run = tmp.File("run");
        var train = CodeLmCli.Run("train", "--data", shards, "--init-from", folder.Dir, "--lora", "--lora-rank", "4", "--out", run, "--device", "cpu",
            "--max-steps", "6", "--warmup", "1", "--lr", "5e-3", "--batch-size", "2", "--seq-len", "64", "--eval-interval", "3", "--eval-batches", "2");
        Assert.True(train.ExitCode == 0, train.Stderr + train.Stdout);
        Assert.Contains("fine-tuning", train.Stderr + train.Stdout);
        Assert.Contains("LoRA rank 4", train.Stderr + train.Stdout);
        var best = Path.Combine(run, "best");
        Assert.True(File.Exists(Path.Combine(best, "adapter_config.json")));
        Assert.True(File.Exists(Path.Combine(best, "adapter_model.safetensors")));
        Assert.False(File.Exists(Path.Combine(best, "model.safetensors"))); // the base is stored once, where it was
        Assert.True(new FileInfo(Path.Combine(best, "adapter_model.safetensors")).Length < new FileInfo(Path.Combine(folder.Dir, "model.safetensors")).Length / 4);

        var sample = CodeLmCli.Run("sample", "--checkpoint", run, "--prompt", "def get(url):", "--max-new-tokens", "4", "--temperature", "0", "--device", "cpu");
        Assert.True(sample.ExitCode == 0, sample.Stderr);

        var noFlag = CodeLmCli.Run("export", "--checkpoint", best, "--out", tmp.File("merged"), "--format", "hf");
        Assert.Equal(ExitCodes.Failed, noFlag.ExitCode);
        Assert.StartsWith("codelm export: error: --merge-lora is needed", noFlag.Stderr.Trim());

        var export = CodeLmCli.Run("export", "--checkpoint", best, "--out", tmp.File("merged"), "--format", "hf", "--merge-lora");
        Assert.True(export.ExitCode == 0, export.Stderr);
        AssertMerged(folder.Dir, best, tmp.File("merged"), "model.layers.1.self_attn.v_proj");
        AssertMerged(folder.Dir, best, tmp.File("merged"), "model.layers.0.mlp.down_proj");

        var gguf = CodeLmCli.Run("export", "--checkpoint", best, "--out", tmp.File("merged.gguf"), "--format", "gguf", "--type", "f32", "--merge-lora");
        Assert.True(gguf.ExitCode == 0, gguf.Stderr);
        Assert.True(new FileInfo(tmp.File("merged.gguf")).Length > 0);
    }

    [Fact]
    public void A_stopped_lora_run_resumes_from_its_adapter_checkpoint_as_if_it_had_not_stopped()
    {
        using var tmp = new TempDir();
        var shards = DataTokenizeTests.Tokenize(tmp, folder.Dir);
        string[] Args(string run) => ["train", "--data", shards, "--init-from", folder.Dir, "--lora", "--out", run, "--device", "cpu", "--max-steps", "6",
            "--warmup", "1", "--lr", "5e-3", "--batch-size", "2", "--seq-len", "64", "--eval-interval", "3", "--eval-batches", "1", "--seed", "5"];
        var straight = CodeLmCli.Run(Args(tmp.File("straight")));
        Assert.True(straight.ExitCode == 0, straight.Stderr);
        var stopped = CodeLmCli.Run([.. Args(tmp.File("resumed")), "--stop-at", "3"]);
        Assert.True(stopped.ExitCode == 0, stopped.Stderr);
        var resumed = CodeLmCli.Run([.. Args(tmp.File("resumed")), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("resumed from", resumed.Stderr + resumed.Stdout);
        // The adapter after 6 steps is the same whether the run stopped at 3 or not: data position, RNG and moments carried over.
        var a = File.ReadAllBytes(Path.Combine(tmp.File("straight"), "checkpoints", "step-00000006", "adapter_model.safetensors"));
        var b = File.ReadAllBytes(Path.Combine(tmp.File("resumed"), "checkpoints", "step-00000006", "adapter_model.safetensors"));
        Assert.Equal(a, b);
    }

    [Fact]
    public void Fine_tuning_mistakes_get_one_clear_line_and_leave_no_run()
    {
        using var tmp = new TempDir();
        var shards = DataTokenizeTests.Tokenize(tmp, folder.Dir);
        string[] common = ["--data", shards, "--device", "cpu", "--max-steps", "2", "--warmup", "1", "--seq-len", "32"];

        var noBase = CodeLmCli.Run(["train", .. common, "--out", tmp.File("a"), "--lora"]);
        Assert.Equal("codelm train: error: --lora adapts a pretrained model: give the model to start from as well.", noBase.Stderr.Trim());

        var badTarget = CodeLmCli.Run(["train", .. common, "--out", tmp.File("b"), "--init-from", folder.Dir, "--lora", "--lora-targets", "q,attn"]);
        Assert.Equal("codelm train: error: --lora-targets has 'attn'; use q, k, v, o, gate, up, down, attention, mlp or all.", badTarget.Stderr.Trim());

        var shape = CodeLmCli.Run(["train", .. common, "--out", tmp.File("c"), "--init-from", folder.Dir, "--config", "tiny"]);
        Assert.Equal("codelm train: error: --init-from sets the model shape; drop --config.", shape.Stderr.Trim());

        var ours = CodeLmCli.Run("tokenizer", "train", "--corpus", tmp.File("corpus"), "--out", tmp.File("tok"), "--vocab-size", "300");
        Assert.True(ours.ExitCode == 0, ours.Stderr);
        var otherShards = CodeLmCli.Run("data", "tokenize", "--corpus", tmp.File("corpus"), "--tokenizer", tmp.File("tok"), "--out", tmp.File("shards2"));
        Assert.True(otherShards.ExitCode == 0, otherShards.Stderr);
        var mismatch = CodeLmCli.Run("train", "--data", tmp.File("shards2"), "--device", "cpu", "--out", tmp.File("d"), "--init-from", folder.Dir, "--lora");
        Assert.Equal(ExitCodes.Failed, mismatch.ExitCode);
        Assert.Single(mismatch.Stderr.Trim().Split('\n'));
        Assert.Contains("tokenize the corpus with the model's own tokenizer", mismatch.Stderr);

        foreach (var dir in new[] { "a", "b", "c", "d" }) Assert.False(Directory.Exists(Path.Combine(tmp.File(dir), "best")));
    }

    // The merged export's weight is the base's plus (alpha / r) · B·A, to float32 rounding.
    private static void AssertMerged(string baseDir, string adapter, string merged, string module)
    {
        CodeLm.Model.Native.TorchNativeLoader.EnsureLoaded();
        var (b, _) = SafeTensors.Load(Path.Combine(baseDir, "model.safetensors"));
        var (a, _) = SafeTensors.Load(Path.Combine(adapter, "adapter_model.safetensors"));
        var (m, _) = SafeTensors.Load(Path.Combine(merged, "model.safetensors"));
        var options = CodeLm.Model.Lora.PeftAdapter.ReadOptions(adapter);
        using var expected = b[module + ".weight"].to(ScalarType.Float32)
            + a[$"base_model.model.{module}.lora_B.weight"].matmul(a[$"base_model.model.{module}.lora_A.weight"]) * options.Scale;
        var diff = (m[module + ".weight"].to(ScalarType.Float32) - expected).abs().max().item<float>();
        Assert.True(diff <= 1e-6, $"{module}: merged differs from base + scaled product by {diff}");
        Assert.True((m[module + ".weight"].to(ScalarType.Float32) - b[module + ".weight"].to(ScalarType.Float32)).abs().max().item<float>() > 0, $"{module}: nothing was merged");
        foreach (var t in b.Values.Concat(a.Values).Concat(m.Values)) t.Dispose();
    }
}
