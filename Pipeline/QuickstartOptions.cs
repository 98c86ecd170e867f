namespace CodeLm.Pipeline;

/// <summary>
/// The quickstart's knobs. The defaults finish in a few minutes on a 2-core CPU: a small vocabulary and the tiny model,
/// because the default corpus is one repository.
/// </summary>
public sealed record QuickstartOptions
{
    public string WorkDir { get; init; } = "codelm-quickstart";
    /// <summary>Repositories crawled; empty means the CodeLm repository this program was built from (found from the working directory up).</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];
    public int VocabSize { get; init; } = 4096;
    public string Preset { get; init; } = "tiny";
    public int Steps { get; init; } = 1000;
    /// <summary>Peak learning rate; 2e-3 spiked and collapsed to unigram statistics on the default corpus, 1e-3 did not.</summary>
    public double LearningRate { get; init; } = 1e-3;
    public int BatchSize { get; init; } = 8;
    /// <summary>Training window; default the preset's context.</summary>
    public int? SequenceLength { get; init; }
    public string Device { get; init; } = "auto";
    /// <summary>Samples per built-in eval problem.</summary>
    public int EvalSamples { get; init; } = 2;
    public int EvalMaxNewTokens { get; init; } = 96;
    public bool Fresh { get; init; }

    public string CacheDir => Path.Combine(WorkDir, "cache");
    public string CorpusDir => Path.Combine(WorkDir, "corpus");
    public string TokenizerDir => Path.Combine(WorkDir, "tokenizer");
    public string ShardDir => Path.Combine(WorkDir, "shards");
    public string RunDir => Path.Combine(WorkDir, "run");
    public string SampleDir => Path.Combine(WorkDir, "samples");
    public string EvalDir => Path.Combine(WorkDir, "eval");
    public string ReportPath => Path.Combine(WorkDir, "report.md");
}
