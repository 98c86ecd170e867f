using System.Diagnostics;
using System.Text;

namespace CodeLm.DataPipeline.Distributed;

/// <summary>
/// Writes one sbatch script per stage (a job array, one task per rank, the rank from SLURM_ARRAY_TASK_ID) and submits
/// them chained with --dependency=afterok, so a failed rank stops every later stage (--kill-on-invalid-dep cancels them).
/// The work directory must be on storage every node sees.
/// </summary>
public static class SlurmExecutor
{
    public sealed record Submission(DataStage Stage, string Script, string? JobId);

    public static IReadOnlyList<(DataStage Stage, string Path, string Text)> Scripts(StagePlan plan, string? partition = null)
    {
        var dir = Path.Combine(plan.WorkDir, "slurm");
        var work = new WorkDirectory(plan.WorkDir);
        return plan.Stages.Select(stage =>
        {
            var sb = new StringBuilder();
            sb.Append("#!/bin/bash\n");
            sb.Append($"#SBATCH --job-name=codelm-data-{stage.Name()}\n");
            sb.Append($"#SBATCH --array=0-{plan.Ranks(stage) - 1}\n");
            sb.Append($"#SBATCH --output={work.Log(stage, 0)[..^"0.log".Length]}%a.log\n");
            sb.Append($"#SBATCH --cpus-per-task={plan.JobsPerRank}\n");
            sb.Append("#SBATCH --kill-on-invalid-dep=yes\n");
            if (partition != null) sb.Append($"#SBATCH --partition={partition}\n");
            sb.Append($"cd {Quote(plan.WorkingDirectory)}\n");
            sb.Append("exec ").Append(string.Join(' ', plan.StageCommand(stage).Select(Quote))).Append('\n');
            return (stage, Path.Combine(dir, stage.Name() + ".sbatch"), sb.ToString());
        }).ToList();
    }

    /// <summary>Writes the scripts and submits them in order (unless <paramref name="dryRun"/>); returns each stage's job id.</summary>
    public static IReadOnlyList<Submission> Submit(StagePlan plan, bool dryRun, string? partition = null)
    {
        var submissions = new List<Submission>();
        string? previous = null;
        foreach (var (stage, path, text) in Scripts(plan, partition))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Directory.CreateDirectory(Path.Combine(plan.WorkDir, "logs"));
            Common.AtomicFile.WriteAllText(path, text);
            if (dryRun) { submissions.Add(new(stage, path, null)); continue; }
            string[] args = previous == null ? ["--parsable", path] : ["--parsable", $"--dependency=afterok:{previous}", path];
            var id = Run("sbatch", args).Split(';')[0].Trim();
            submissions.Add(new(stage, path, id));
            previous = id;
        }
        return submissions;
    }

    /// <summary>Waits until none of the jobs is queued or running; the completion markers then tell success from failure.</summary>
    public static async Task WaitAsync(IReadOnlyList<Submission> jobs, TimeSpan poll, CancellationToken ct)
    {
        var ids = string.Join(',', jobs.Select(j => j.JobId).OfType<string>());
        while (Run("squeue", ["-h", "-j", ids, "-o", "%i"]).Trim().Length > 0) await Task.Delay(poll, ct);
    }

    private static string Run(string tool, string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { throw new InvalidOperationException($"{tool} was not found: the slurm executor needs Slurm's client commands on PATH"); }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            // squeue on jobs that already left the queue says so on stderr; that is the end of waiting, not an error.
            if (p.ExitCode != 0 && !(tool == "squeue" && stderr.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase)))
                throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed: {stderr.Trim()}");
            return stdout.Result;
        }
    }

    private static string Quote(string s) => s.All(c => char.IsAsciiLetterOrDigit(c) || "/._-=:,@+".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
