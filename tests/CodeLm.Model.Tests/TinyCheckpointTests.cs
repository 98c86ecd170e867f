using CodeLm.Model.Training;
using CodeLm.Tests;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

public class TinyCheckpointTests
{
    [Fact]
    public void Tiny_checkpoint_is_deterministic_and_loads_with_its_tokenizer()
    {
        Torch.Init();
        using var tmp = new TempDir();
        var tok = TestData.Tokenizer(tmp.File("tok"));
        var a = RandomCheckpoint.Create(tmp.File("a"), tok, seed: 3);
        var b = RandomCheckpoint.Create(tmp.File("b"), tok, seed: 3);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, Checkpoint.WeightsFile)), File.ReadAllBytes(Path.Combine(b, Checkpoint.WeightsFile)));
        var (model, config, loadedTok) = Checkpoint.Load(a, CPU);
        using (model)
        {
            Assert.Equal(RandomCheckpoint.Config(tok.VocabSize), config);
            Assert.Equal(tok.Hash, loadedTok.Hash);
            using var _ = no_grad();
            using var logits = model.forward(tensor(tok.Encode("def f():").Select(i => (long)i).ToArray()).unsqueeze(0));
            Assert.Equal(tok.VocabSize, (int)logits.shape[2]);
        }
    }

    [Fact]
    public void Gradient_accumulation_equals_the_larger_batch()
    {
        Torch.Init();
        using var tmp = new TempDir();
        var (data, tok, handles) = ShardData.Open(TestData.Shards(tmp.Path));
        using var _ = handles;
        var config = TestData.TinyConfig(tok.VocabSize);
        var accumulated = Trainer.Run(config, data, TestData.Options(tmp.File("a")) with { BatchSize = 2, GradAccumulation = 3, MaxSteps = 3, EvalInterval = 3 });
        var whole = Trainer.Run(config, data, TestData.Options(tmp.File("b")) with { BatchSize = 6, GradAccumulation = 1, MaxSteps = 3, EvalInterval = 3 });
        for (int i = 0; i < 3; i++) Assert.Equal(whole.Losses[i], accumulated.Losses[i], 4);
    }
}
