using System.Diagnostics;

namespace CodeLm.DataPipeline.Distributed;

/// <summary>
/// Runs every rank of a stage as a child process on this machine, all ranks of a stage at once, stage after stage. Each
/// rank's output goes to logs/STAGE-R.log. A rank that exits non-zero stops the build after its stage; ranks already done
/// (their marker exists) return at once, so a rerun after a crash or a kill redoes only the unfinished ranks.
/// </summary>
public static class LocalExecutor
{
    public static async Task RunAsync(StagePlan plan, Action<string>? log = null, CancellationToken ct = default)
    {
        var work = new WorkDirectory(plan.WorkDir);
        Directory.CreateDirectory(Path.GetDirectoryName(work.Log(DataStage.Crawl, 0))!);
        foreach (var stage in plan.Stages)
        {
            int ranks = plan.Ranks(stage);
            var pending = Enumerable.Range(0, ranks).Where(r => !work.IsDone(stage, r)).ToList();
            log?.Invoke($"{stage.Name()}: {ranks - pending.Count} of {ranks} ranks already done, running {pending.Count}");
            var exits = await Task.WhenAll(pending.Select(r => RunRankAsync(plan, work, stage, r, ct)));
            var failed = pending.Zip(exits).FirstOrDefault(x => x.Second != 0);
            if (failed != default)
                throw new StageFailedException(stage, failed.First, $"exit code {failed.Second}: {LastLine(work.Log(stage, failed.First))} (log: {work.Log(stage, failed.First)})");
        }
    }

    private static async Task<int> RunRankAsync(StagePlan plan, WorkDirectory work, DataStage stage, int rank, CancellationToken ct)
    {
        var command = plan.StageCommand(stage);
        var psi = new ProcessStartInfo(command[0]) { WorkingDirectory = plan.WorkingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command.Skip(1).Append("--rank").Append(rank.ToString())) psi.ArgumentList.Add(a);
        using var logFile = new StreamWriter(work.Log(stage, rank), append: false) { AutoFlush = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {command[0]}");
        var sync = new Lock();
        void Line(string? l) { if (l != null) lock (sync) logFile.WriteLine(l); }
        p.OutputDataReceived += (_, e) => Line(e.Data);
        p.ErrorDataReceived += (_, e) => Line(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            await p.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        return p.ExitCode;
    }

    private static string LastLine(string path) =>
        File.Exists(path) ? File.ReadLines(path).LastOrDefault(l => l.Trim().Length > 0) ?? "(no output)" : "(no log)";
}
