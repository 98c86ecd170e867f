namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>Writes train.parquet and validation.parquet from the spill in (repository, path) order.</summary>
internal static class WriteStep
{
    public static Task RunAsync(CorpusRun run, IReadOnlyList<CorpusFile> files, ContentSpill spill, long keptFiles) =>
        RunAsync(run, files, _ => spill, keptFiles);

    /// <param name="spillOf">The spill that holds a kept file's cleaned text (a staged build has one per clean rank).</param>
    public static async Task RunAsync(CorpusRun run, IReadOnlyList<CorpusFile> files, Func<CorpusFile, ContentSpill> spillOf, long keptFiles)
    {
        long written = 0; // shared by both writers, so counted with Interlocked
        void WriteRows(CorpusParquetWriter writer, bool validation)
        {
            foreach (var f in files)
            {
                if (!f.IsKept || f.InValidation != validation) continue;
                run.Ct.ThrowIfCancellationRequested();
                var r = run.Repos[f.Repo];
                // The spilled bytes are the row's content as they are: no string is made of them.
                spillOf(f).ReadInto(f.SpillOffset, writer.Add(f.RowRepo ?? r.Name, f.Path, f.Language!, f.RowLicense ?? r.License, r.Commit!, f.SpillLength));
                if (run.Progress != null && (Interlocked.Increment(ref written) & 255) == 0)
                    run.Progress.Report(new CorpusProgress("write", f.Path, 0, 0, written, keptFiles, 0, 0));
            }
        }
        Directory.CreateDirectory(run.Options.OutDir);
        // The two files share nothing but the spill, which is read at offsets, so they are written at the same time.
        await Task.WhenAll(
            Task.Run(() => CorpusFiles.Write(Path.Combine(run.Options.OutDir, CorpusFiles.Train), w => WriteRows(w, false))),
            Task.Run(() => CorpusFiles.Write(Path.Combine(run.Options.OutDir, CorpusFiles.Validation), w => WriteRows(w, true))));
    }
}
