using CodeLm.Common;
using CodeLm.Model.Training;
using CodeLm.Tests;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

public class TrainerTests
{
    [Fact]
    public void Resumed_run_continues_the_same_loss_curve()
    {
        Torch.Init();
        using var tmp = new TempDir();
        var (data, tok, handles) = ShardData.Open(TestData.Shards(tmp.Path));
        using var _ = handles;
        var config = TestData.TinyConfig(tok.VocabSize);

        var straight = Trainer.Run(config, data, TestData.Options(tmp.File("a")));
        Assert.Equal(StopReason.Completed, straight.StopReason);
        Assert.Equal(8, straight.Losses.Count);

        var first = Trainer.Run(config, data, TestData.Options(tmp.File("b")) with { StopAtStep = 4 });
        Assert.Equal(StopReason.Stopped, first.StopReason);
        var second = Trainer.Run(config, data, TestData.Options(tmp.File("b")) with { Resume = true });
        Assert.Equal(StopReason.Completed, second.StopReason);

        var resumed = first.Losses.Concat(second.Losses).ToList();
        Assert.Equal(straight.Losses.Count, resumed.Count);
        for (int i = 0; i < resumed.Count; i++) Assert.Equal(straight.Losses[i], resumed[i], 5);
        Assert.Equal(straight.BestValLoss!.Value, second.BestValLoss!.Value, 5);
        Assert.True(straight.Losses[^1] < straight.Losses[0], "loss should fall over 8 steps");

        // The run directory holds what a person reads: metrics, TensorBoard events, a PNG, last-K and best checkpoints.
        var run = tmp.File("b");
        var lines = File.ReadAllLines(Path.Combine(run, MetricsLog.JsonlFile));
        Assert.Equal(8, lines.Count(l => l.Contains("\"type\":\"train\"")));
        Assert.Equal(2, lines.Count(l => l.Contains("\"type\":\"eval\"")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, MetricsLog.TensorBoardDir), "events.out.tfevents*", SearchOption.AllDirectories));
        var png = File.ReadAllBytes(Path.Combine(run, MetricsLog.PngFile));
        Assert.Equal(new byte[] { 137, 80, 78, 71 }, png[..4]);
        Assert.Equal(2, RunCheckpoints.List(run).Count);
        var (model, loadedConfig, loadedTok) = Checkpoint.Load(RunCheckpoints.BestPath(run), CPU);
        Assert.Equal(config, loadedConfig);
        Assert.Equal(tok.Hash, loadedTok.Hash);
        model.Dispose();
    }

    [Fact]
    public void Nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint()
    {
        Torch.Init();
        using var tmp = new TempDir();
        var (data, tok, handles) = ShardData.Open(TestData.Shards(tmp.Path));
        using var _ = handles;
        var config = TestData.TinyConfig(tok.VocabSize);
        var opts = TestData.Options(tmp.File("run")) with { CheckpointInterval = 2, EvalInterval = 100, MaxSteps = 20, WarmupSteps = 0 };
        var ok = Trainer.Run(config, data, opts with { StopAtStep = 2 });
        Assert.Equal(StopReason.Stopped, ok.StopReason);
        var good = RunCheckpoints.Latest(tmp.File("run"))!;
        var goodBytes = File.ReadAllBytes(Path.Combine(good, Checkpoint.WeightsFile));

        // A learning rate this large drives the weights to overflow within a step or two.
        var blown = Trainer.Run(config, data, opts with { Resume = true, LearningRate = 1e30 });
        Assert.Equal(StopReason.Nan, blown.StopReason);
        Assert.Contains("last good one", blown.Message);
        Assert.Equal(good, blown.LastCheckpoint);
        Assert.Equal(good, RunCheckpoints.Latest(tmp.File("run")));
        Assert.Equal(goodBytes, File.ReadAllBytes(Path.Combine(good, Checkpoint.WeightsFile)));
        var (model, _) = Checkpoint.LoadModel(good, CPU);
        Assert.All(model.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
        model.Dispose();
    }

    [Fact]
    public void A_failure_between_temp_write_and_rename_leaves_the_previous_checkpoint_intact()
    {
        Torch.Init();
        using var tmp = new TempDir();
        manual_seed(1);
        using var model = new Gpt(TestData.TinyConfig(64));
        var dir = tmp.File("ckpt");
        Checkpoint.Save(dir, model, null);
        var before = File.ReadAllBytes(Path.Combine(dir, Checkpoint.WeightsFile));
        using (no_grad()) foreach (var p in model.parameters()) p.add_(1.0);
        // The last callback before the rename: weights are written, the move has not happened.
        Assert.Throws<IOException>(() => Checkpoint.Save(dir, model, null, stage =>
        {
            Assert.True(File.Exists(Path.Combine(stage, Checkpoint.WeightsFile)));
            throw new IOException("simulated crash between write and rename");
        }));

        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, Checkpoint.WeightsFile)));
        Assert.Single(Directory.GetFileSystemEntries(tmp.Path)); // staging directory cleaned up
        var (loaded, _) = Checkpoint.LoadModel(dir, CPU);
        loaded.Dispose();
    }

    [Fact]
    public void Cancellation_writes_a_checkpoint_that_resumes()
    {
        Torch.Init();
        using var tmp = new TempDir();
        var (data, tok, handles) = ShardData.Open(TestData.Shards(tmp.Path));
        using var _ = handles;
        var config = TestData.TinyConfig(tok.VocabSize);
        using var cts = new CancellationTokenSource();
        var cancelled = Trainer.Run(config, data, TestData.Options(tmp.File("run")), p => { if (p.Step == 3) cts.Cancel(); }, cts.Token);
        Assert.Equal(StopReason.Cancelled, cancelled.StopReason);
        Assert.Equal(3, cancelled.Step);
        Assert.Equal(RunCheckpoints.PathFor(tmp.File("run"), 3), cancelled.LastCheckpoint);
        var resumed = Trainer.Run(config, data, TestData.Options(tmp.File("run")) with { Resume = true });
        Assert.Equal(StopReason.Completed, resumed.StopReason);
        Assert.Equal(5, resumed.Losses.Count);
    }

    [Fact]
    public void Bf16_with_fp32_master_weights_trains()
    {
        Torch.Init();
        using var tmp = new TempDir();
        var (data, tok, handles) = ShardData.Open(TestData.Shards(tmp.Path));
        using var _ = handles;
        var result = Trainer.Run(TestData.TinyConfig(tok.VocabSize), data, TestData.Options(tmp.File("run")) with { Precision = TrainPrecision.Bf16, MaxSteps = 6, EvalInterval = 6 });
        Assert.Equal(StopReason.Completed, result.StopReason);
        Assert.True(result.Losses[^1] < result.Losses[0]);
        var (tensors, _) = SafeTensors.Load(Path.Combine(result.LastCheckpoint!, Checkpoint.WeightsFile));
        Assert.All(tensors.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));
    }

    [Fact]
    public void Bad_inputs_fail_before_training_with_clear_errors()
    {
        Torch.Init();
        using var tmp = new TempDir();
        var shards = TestData.Shards(tmp.Path);

        var missing = Assert.Throws<DirectoryNotFoundException>(() => ShardData.Open(tmp.File("nope")));
        Assert.Contains("does not exist", missing.Message);

        // A tokenizer other than the one the shards were made with.
        var otherDir = tmp.File("other-tok");
        CodeLm.Tokenizer.Training.BpeTrainer.Train(TestData.Documents(10, 5), new(VocabSize: 330, Threads: 1)).Save(otherDir);
        var mismatch = Assert.Throws<InvalidDataException>(() => ShardData.Open(shards, otherDir));
        Assert.Contains("tokenizer", mismatch.Message);

        // A config that cannot fit in memory is refused before any tensor is allocated.
        var (data, tok, handles) = ShardData.Open(shards);
        using (handles)
        {
            var huge = GptConfig.Preset("350m", tok.VocabSize);
            var oom = Assert.Throws<MemoryBudgetException>(() => Trainer.Run(huge, data, TestData.Options(tmp.File("big")) with { BatchSize = 4096 }));
            Assert.Contains("needs about", oom.Message);
            Assert.False(Directory.Exists(Path.Combine(tmp.File("big"), RunCheckpoints.Folder)));

            // Resuming with a different model shape is refused.
            var config = TestData.TinyConfig(tok.VocabSize);
            Trainer.Run(config, data, TestData.Options(tmp.File("run")) with { StopAtStep = 1, CheckpointInterval = 1 });
            var incompatible = Assert.Throws<OptionException>(() =>
                Trainer.Run(config with { Layers = 3 }, data, TestData.Options(tmp.File("run")) with { Resume = true }));
            Assert.Contains("not compatible", incompatible.Message);
            var fresh = Assert.Throws<OptionException>(() => Trainer.Run(config, data, TestData.Options(tmp.File("run"))));
            Assert.Equal(nameof(TrainOptions.Resume), fresh.Option); // the CLI words it as --resume
        }

        // Corrupt shards: a truncated .bin no longer matches its index.
        var bin = Path.Combine(shards, "train.bin");
        var bytes = File.ReadAllBytes(bin);
        File.WriteAllBytes(bin, bytes[..(bytes.Length / 2)]);
        var corrupt = Assert.ThrowsAny<Exception>(() => ShardData.Open(shards));
        Assert.True(corrupt is InvalidDataException or IOException, corrupt.ToString());
    }
}
