using CodeLm.DataPipeline.Clean;
using LibGit2Sharp;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>Where a file stands in the chain.</summary>
internal enum FileState : byte
{
    /// <summary>Found in the tree, not read yet.</summary>
    Listed,
    /// <summary>Read and cleaned, its text in the spill: in the corpus unless dedup drops it.</summary>
    Cleaned,
    /// <summary>The scan found a reason to drop it, not counted yet (see <see cref="CorpusFile.Settle"/>).</summary>
    Rejected,
    /// <summary>Dropped and counted.</summary>
    Dropped,
}

/// <summary>
/// One listed file on its way through the chain. Metadata only: the cleaned text waits in the spill and the MinHash
/// signature in the scan's matrix, so memory grows with the number of files, not with their size.
/// </summary>
internal sealed class CorpusFile(int repo, string path, ObjectId blob, long size, string? language)
{
    /// <summary>Index into the manifest's repositories.</summary>
    public int Repo { get; } = repo;
    public string Path { get; } = path;
    public ObjectId Blob { get; } = blob;
    public long Size { get; } = size;
    /// <summary>The language its path suggests when listed (null or "C" leave it to the content), the detected one once cleaned.</summary>
    public string? Language { get; private set; } = language;
    /// <summary>Its place in (repository, path) order, which is also its row of MinHash signatures.</summary>
    public int Row { get; set; }

    public FileState State { get; private set; }
    public DropReason? Reason { get; private set; }
    public UInt128 Hash { get; private set; }
    public int Shingles { get; private set; }
    public long SpillOffset { get; private set; }
    public int SpillLength { get; private set; }
    /// <summary>Redactions per <see cref="RedactionKind"/>; null when nothing was redacted.</summary>
    public int[]? Redactions { get; private set; }
    public bool InValidation { get; set; }
    /// <summary>A dataset row's repository and license (the corpus's repo and license columns); null for a file of a clone.</summary>
    public string? RowRepo { get; init; }
    public string? RowLicense { get; init; }
    /// <summary>A dataset row's bytes, held from listing until the scan has read them.</summary>
    public byte[]? Inline { get; set; }
    /// <summary>Which clean rank's spill holds its text (0 in a one-process build).</summary>
    public int SpillRank { get; set; }
    /// <summary>The benchmark (index into the decontamination options) whose problem it holds; -1 for none.</summary>
    public int Benchmark { get; private set; } = -1;

    /// <summary>Cleaned and not dropped (yet).</summary>
    public bool IsKept => State == FileState.Cleaned;

    public void Cleaned(CleanedFile cleaned, UInt128 hash, int shingles, (long Offset, int Length) spilled)
    {
        State = FileState.Cleaned;
        Language = cleaned.Language;
        Redactions = cleaned.Redactions;
        Hash = hash;
        Shingles = shingles;
        (SpillOffset, SpillLength) = spilled;
    }

    /// <summary>
    /// Marks the file for dropping without counting it: scan workers run in parallel, and a repository can still fail after
    /// some of its files were judged, which takes all of them out of every count.
    /// </summary>
    public void Reject(DropReason reason) => (State, Reason) = (FileState.Rejected, reason);

    public void RejectContaminated(int benchmark)
    {
        Reject(DropReason.BenchmarkContamination);
        Benchmark = benchmark;
    }

    /// <summary>Counts the scan's rejection, once the repository is known to be readable.</summary>
    public void Settle(CorpusTally tally)
    {
        if (State != FileState.Rejected) return;
        if (Benchmark >= 0) tally.Contaminated(Benchmark, Size);
        Drop(Reason!.Value, tally);
    }

    /// <summary>Puts back a file as a staged build's rank left it (see Distributed/FileRecords).</summary>
    public void Restore(FileState state, DropReason? reason, string? language, UInt128 hash, int shingles, (long Offset, int Length) spilled,
                        int[]? redactions, int benchmark, bool inValidation)
    {
        (State, Reason, Language, Hash, Shingles, Redactions, Benchmark, InValidation) = (state, reason, language, hash, shingles, redactions, benchmark, inValidation);
        (SpillOffset, SpillLength) = spilled;
    }

    public void Drop(DropReason reason, CorpusTally tally)
    {
        (State, Reason) = (FileState.Dropped, reason);
        tally.Drop(reason, Size);
    }
}
