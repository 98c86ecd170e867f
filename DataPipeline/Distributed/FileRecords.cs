using System.Text;
using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Corpus.Steps;
using LibGit2Sharp;

namespace CodeLm.DataPipeline.Distributed;

/// <summary>
/// files.bin: the per-file records a clean rank (or the cluster stage) leaves for the next stage: every listed file with
/// its verdict so far, the tree entries dropped while listing, and the repositories that failed. Binary, versioned, and
/// small: metadata only, the text stays in content.bin.
/// </summary>
internal static class FileRecords
{
    private const string Magic = "CODELM-FILES-2";

    public sealed record Contents(List<CorpusFile> Files, List<ListedDrop> Drops, List<(int Repo, string Reason)> Failures);

    public static void Write(string path, IReadOnlyList<CorpusFile> files, IReadOnlyList<ListedDrop> drops, IEnumerable<KeyValuePair<int, string>> failures)
    {
        using var w = new BinaryWriter(File.Create(path), Encoding.UTF8);
        w.Write(Magic);
        w.Write(files.Count);
        foreach (var f in files)
        {
            w.Write(f.Repo); w.Write(f.Path); w.Write(f.Size); w.Write(f.Language ?? "");
            w.Write((byte)f.State); w.Write(f.Reason is { } r ? (int)r : -1);
            w.Write((ulong)f.Hash); w.Write((ulong)(f.Hash >> 64));
            w.Write(f.Shingles); w.Write(f.SpillOffset); w.Write(f.SpillLength); w.Write(f.SpillRank);
            w.Write(f.Redactions?.Length ?? -1);
            foreach (var c in f.Redactions ?? []) w.Write(c);
            w.Write(f.Benchmark); w.Write(f.InValidation); w.Write(f.RowRepo ?? ""); w.Write(f.RowLicense ?? "");
        }
        w.Write(drops.Count);
        foreach (var d in drops) { w.Write(d.Repo); w.Write((int)d.Reason); w.Write(d.Bytes); }
        var failed = failures.OrderBy(kv => kv.Key).ToList();
        w.Write(failed.Count);
        foreach (var (repo, reason) in failed) { w.Write(repo); w.Write(reason); }
    }

    public static Contents Read(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        try
        {
            if (r.ReadString() != Magic) throw new InvalidDataException($"{path} is not a CodeLm file-records file (or from another version)");
            int n = r.ReadInt32();
            var files = new List<CorpusFile>(n);
            for (int i = 0; i < n; i++)
            {
                int repo = r.ReadInt32();
                string filePath = r.ReadString();
                long size = r.ReadInt64();
                var language = NullIfEmpty(r.ReadString());
                var state = (FileState)r.ReadByte();
                int reason = r.ReadInt32();
                var hash = r.ReadUInt64() | ((UInt128)r.ReadUInt64() << 64);
                int shingles = r.ReadInt32();
                long offset = r.ReadInt64();
                int length = r.ReadInt32();
                int spillRank = r.ReadInt32();
                int redactionCount = r.ReadInt32();
                int[]? redactions = redactionCount < 0 ? null : Enumerable.Range(0, redactionCount).Select(_ => r.ReadInt32()).ToArray();
                int benchmark = r.ReadInt32();
                bool validation = r.ReadBoolean();
                var f = new CorpusFile(repo, filePath, ObjectId.Zero, size, language) { RowRepo = NullIfEmpty(r.ReadString()), RowLicense = NullIfEmpty(r.ReadString()), SpillRank = spillRank };
                f.Restore(state, reason < 0 ? null : (DropReason)reason, language, hash, shingles, (offset, length), redactions, benchmark, validation);
                files.Add(f);
            }
            var drops = Enumerable.Range(0, r.ReadInt32()).Select(_ => new ListedDrop(r.ReadInt32(), (DropReason)r.ReadInt32(), r.ReadInt64())).ToList();
            var failures = Enumerable.Range(0, r.ReadInt32()).Select(_ => (r.ReadInt32(), r.ReadString())).ToList();
            return new Contents(files, drops, failures);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path} is truncated; rerun the stage that wrote it", e);
        }
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
