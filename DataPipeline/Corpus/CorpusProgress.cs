namespace CodeLm.DataPipeline.Corpus;

/// <summary>A progress snapshot. Phases: "crawl" (repos), "scan" (files/bytes cleaned), "dedup", "write" (rows written).</summary>
public sealed record CorpusProgress(string Phase, string? Item, int ReposDone, int ReposTotal, long FilesDone, long FilesTotal, long BytesDone, long BytesTotal);
