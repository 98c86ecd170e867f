namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>Streams train.parquet, then validation.parquet, from the spill in (repository, path) order.</summary>
internal static class WriteStep
{
    public static Task RunAsync(CorpusRun run, IReadOnlyList<CorpusFile> files, ContentSpill spill, long keptFiles) =>
        RunAsync(run, files, f => spill.Read(f.SpillOffset, f.SpillLength), keptFiles);

    /// <param name="text">A kept file's cleaned text (a staged build reads it from its clean rank's spill).</param>
    public static async Task RunAsync(CorpusRun run, IReadOnlyList<CorpusFile> files, Func<CorpusFile, string> text, long keptFiles)
    {
        long written = 0; // shared by both writers, so counted with Interlocked
        IEnumerable<CorpusRecord> Rows(bool validation)
        {
            foreach (var f in files)
            {
                if (!f.IsKept || f.InValidation != validation) continue;
                var r = run.Repos[f.Repo];
                yield return new CorpusRecord(f.RowRepo ?? r.Name, f.Path, f.Language!, f.RowLicense ?? r.License, r.Commit!, text(f));
                if (run.Progress != null && (Interlocked.Increment(ref written) & 255) == 0)
                    run.Progress.Report(new CorpusProgress("write", f.Path, 0, 0, written, keptFiles, 0, 0));
            }
        }
        Directory.CreateDirectory(run.Options.OutDir);
        // The two files share nothing but the spill, which is read at offsets, so they are compressed on two cores.
        await Task.WhenAll(
            Task.Run(() => CorpusFiles.WriteAsync(Path.Combine(run.Options.OutDir, CorpusFiles.Train), Rows(false), run.Ct)),
            Task.Run(() => CorpusFiles.WriteAsync(Path.Combine(run.Options.OutDir, CorpusFiles.Validation), Rows(true), run.Ct)));
    }
}
