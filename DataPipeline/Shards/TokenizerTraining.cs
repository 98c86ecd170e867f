using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CodeLm.Common;
using CodeLm.DataPipeline.Corpus;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Training;

namespace CodeLm.DataPipeline.Shards;

/// <summary>Options of <c>codelm tokenizer train</c>. The sample is drawn from the train split only.</summary>
/// <param name="PreTokenizer">
/// Qwen2's split by default: on held-out code it gives 6.7% fewer tokens than CodeLm's own at the same vocabulary
/// (docs/benchmarks.md, "Compression") and llama.cpp has it built in, so a GGUF export tokenizes exactly as CodeLm.
/// </param>
public sealed record TokenizerTrainingOptions(
    string CorpusDir,
    string OutputDir,
    int VocabSize = 32768,
    long MinFrequency = 2,
    long SampleChars = 512L << 20,
    int Seed = 0,
    int Threads = 0,
    SplitRule PreTokenizer = SplitRule.Qwen2);

public sealed record TokenizerTrainingResult(string OutputDir, int VocabSize, int Merges, long SampledDocuments, long SampledChars, long CorpusChars, long UniqueWords, string Hash);

/// <summary>Corpus → tokenizer: a seeded, size-bounded sample of train.parquet (tag line + content per file), then BPE.</summary>
public static class TokenizerTraining
{
    public static async Task<TokenizerTrainingResult> RunAsync(TokenizerTrainingOptions options,
        IProgress<BpeTrainingProgress>? progress = null, CancellationToken ct = default)
    {
        new BpeTrainerOptions(options.VocabSize, options.MinFrequency).Validate();
        if (options.SampleChars <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.SampleChars, "sample size must be positive");
        var trainPath = CorpusInputs.Splits(options.CorpusDir)[0].Path;

        // Pass 1: each file's random draw and size. Files are then taken in draw order until the budget is reached,
        // so the sample is uniform over files and its size lands on the budget (give or take the last file).
        var draws = new List<(double Unit, long Chars)>();
        await foreach (var r in CorpusFiles.ReadAsync(trainPath, ct))
            draws.Add((Unit(options.Seed, r.Repo, r.Path), LanguageTag.Prefix(r.Language).Length + r.Content.Length));
        var corpusChars = draws.Sum(d => d.Chars);
        if (corpusChars == 0) throw new InvalidDataException($"'{trainPath}' holds no text to train a tokenizer on.");
        var threshold = 1.0;
        if (corpusChars > options.SampleChars)
        {
            draws.Sort();
            long taken = 0;
            foreach (var d in draws)
            {
                taken += d.Chars;
                if (taken >= options.SampleChars) { threshold = d.Unit; break; }
            }
        }

        long docs = 0, chars = 0;
        IEnumerable<string> Sample()
        {
            foreach (var r in CorpusFiles.ReadAsync(trainPath, ct).ToBlockingEnumerable(ct))
            {
                if (Unit(options.Seed, r.Repo, r.Path) > threshold) continue;
                var doc = LanguageTag.Prefix(r.Language) + r.Content;
                docs++;
                chars += doc.Length;
                yield return doc;
            }
        }

        var trained = BpeTrainer.Train(Sample(), new BpeTrainerOptions(options.VocabSize, options.MinFrequency, options.Threads, options.PreTokenizer), progress, ct);
        trained.Save(options.OutputDir);
        var tok = CodeLm.Tokenizer.CodeTokenizer.Load(options.OutputDir);
        return new TokenizerTrainingResult(Path.GetFullPath(options.OutputDir), tok.VocabSize, trained.Merges.Count, docs, chars, corpusChars, trained.UniqueWords, tok.Hash);
    }

    // A deterministic uniform number in [0, 1) per file and seed.
    private static double Unit(int seed, string repo, string path)
    {
        var h = BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}\0{repo}\0{path}")));
        return (h >> 11) * (1.0 / (1UL << 53));
    }
}
