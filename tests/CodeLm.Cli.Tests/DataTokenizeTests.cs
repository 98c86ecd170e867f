using System.Text.Json;
using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>
/// `codelm data tokenize` with a pretrained model's tokenizer, through the real command: a corpus built by `codelm data
/// build` from a shared repository, and the Qwen2-layout model folder of <see cref="OpenModelTests"/> as the tokenizer.
/// </summary>
public sealed class DataTokenizeTests(TinyQwenFolder folder) : IClassFixture<TinyQwenFolder>
{
    [Fact]
    public void A_model_folder_tokenizes_a_corpus_in_its_own_conventions_and_trains()
    {
        using var tmp = new TempDir();
        var shards = Tokenize(tmp, folder.Dir);

        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(shards, "manifest.json"))))
        {
            var documents = manifest.RootElement.GetProperty("documents");
            Assert.Equal("hugging-face", documents.GetProperty("tokenizer").GetString());
            Assert.False(documents.GetProperty("tag_lines").GetBoolean());
            Assert.Equal(Sha256(Path.Combine(folder.Dir, "tokenizer.json")), manifest.RootElement.GetProperty("tokenizer_hash").GetString());
        }
        // The tokenizer's files travel with the shards; the model's weights and config do not.
        Assert.Equal(["tokenizer.json", "tokenizer_config.json"],
            Directory.GetFiles(Path.Combine(shards, "tokenizer")).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var train = CodeLmCli.Run("train", "--data", shards, "--config", "tiny", "--out", tmp.File("run"), "--device", "cpu",
            "--max-steps", "2", "--warmup", "1", "--batch-size", "2", "--seq-len", "32", "--eval-interval", "2", "--eval-batches", "1");
        Assert.True(train.ExitCode == 0, train.Stderr);
    }

    [Fact]
    public void Train_refuses_shards_made_with_another_tokenizer_naming_both()
    {
        using var tmp = new TempDir();
        var shards = Tokenize(tmp, folder.Dir);
        var ours = CodeLmCli.Run("tokenizer", "train", "--corpus", tmp.File("corpus"), "--out", tmp.File("codelm-tok"), "--vocab-size", "300");
        Assert.True(ours.ExitCode == 0, ours.Stderr);

        var r = CodeLmCli.Run("train", "--data", shards, "--tokenizer", tmp.File("codelm-tok"), "--config", "tiny", "--out", tmp.File("run"), "--device", "cpu");
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith("codelm train: error: ", line);
        Assert.Contains($"was tokenized with a Hugging Face tokenizer {Sha256(Path.Combine(folder.Dir, "tokenizer.json"))[..12]}", line);
        Assert.Contains($"'{tmp.File("codelm-tok")}', a CodeLm tokenizer {Sha256(Path.Combine(tmp.File("codelm-tok"), "tokenizer.json"))[..12]}", line);
        Assert.False(Directory.Exists(tmp.File("run")));
    }

    [Fact]
    public void A_folder_without_tokenizer_json_is_one_clear_error_and_writes_nothing()
    {
        using var tmp = new TempDir();
        var weightsOnly = tmp.File("weights-only");
        Directory.CreateDirectory(weightsOnly);
        foreach (var f in new[] { "config.json", "model.safetensors" }) File.Copy(Path.Combine(folder.Dir, f), Path.Combine(weightsOnly, f));
        Build(tmp);

        var r = CodeLmCli.Run("data", "tokenize", "--corpus", tmp.File("corpus"), "--tokenizer", weightsOnly, "--out", tmp.File("shards"));
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal($"codelm data tokenize: error: '{weightsOnly}' has no tokenizer.json (it holds config.json, model.safetensors); a tokenizer is " +
                     "a CodeLm tokenizer directory (from `codelm tokenizer train`) or a Hugging Face model folder with a byte-level BPE tokenizer.json " +
                     "(GPT-2, StarCoder, Qwen2, DeepSeek-Coder families).", line);
        Assert.False(Directory.Exists(tmp.File("shards")));
    }

    /// <summary>A corpus of one shared repository, tokenized with <paramref name="tokenizer"/>; returns the shard directory.</summary>
    internal static string Tokenize(TempDir tmp, string tokenizer)
    {
        Build(tmp);
        var r = CodeLmCli.Run("data", "tokenize", "--corpus", tmp.File("corpus"), "--tokenizer", tokenizer, "--out", tmp.File("shards"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("(uint16, vocab", r.Stdout); // the test model's small vocabulary fits 16 bits (Tokenizer.Tests writes 151k as int32)
        Assert.Contains("Hugging Face tokenizer, tag lines off", r.Stdout);
        return tmp.File("shards");
    }

    internal static void Build(TempDir tmp)
    {
        var r = CodeLmCli.Run("data", "build", TestPaths.SharedCorpus("requests"), "--out", tmp.File("corpus"), "--cache", tmp.File("cache"));
        Assert.True(r.ExitCode == 0, r.Stderr);
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
}
