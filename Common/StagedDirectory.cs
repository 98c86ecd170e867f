using System.Globalization;
using System.Text.RegularExpressions;

namespace CodeLm.Common;

/// <summary>
/// A directory built beside its final name and renamed into place, so a crash mid-write leaves the previous one as it
/// was (checkpoints, exports). Staging and replaced copies carry their writer's process id, so a later run can tell a
/// killed writer's leftovers from a live one's.
/// </summary>
public static class StagedDirectory
{
    /// <summary>
    /// Creates a staging directory beside <paramref name="dir"/>, lets <paramref name="fill"/> write into it, and moves it
    /// onto <paramref name="dir"/>. If <paramref name="fill"/> throws, <paramref name="dir"/> is untouched and the
    /// staging directory is removed.
    /// </summary>
    public static void Write(string dir, Action<string> fill)
    {
        dir = Path.GetFullPath(dir.TrimEnd('/', '\\'));
        var parent = Path.GetDirectoryName(dir)!;
        Directory.CreateDirectory(parent);
        var stage = Path.Combine(parent, $".{Path.GetFileName(dir)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(stage);
        try
        {
            fill(stage);
            Commit(stage, dir);
        }
        finally
        {
            if (Directory.Exists(stage)) Directory.Delete(stage, recursive: true);
        }
    }

    /// <summary>
    /// Cleans up after writers killed in <see cref="Write"/> within <paramref name="parent"/>: staging directories of
    /// processes that are gone are deleted, and a directory caught between the two moves of a replacement (only its
    /// `.old` copy left) is put back. Temp files of <see cref="AtomicFile"/> go too. Returns what it did, for the log.
    /// </summary>
    public static IReadOnlyList<string> RecoverInterrupted(string parent)
    {
        var done = new List<string>();
        if (!Directory.Exists(parent)) return done;
        foreach (var dir in Directory.GetDirectories(parent, ".*"))
        {
            var name = Path.GetFileName(dir);
            var staging = StagingName.Match(name);
            if (staging.Success && WriterGone(staging.Groups[2].Value))
            {
                Directory.Delete(dir, recursive: true);
                done.Add($"removed the unfinished {staging.Groups[1].Value} of a stopped run");
                continue;
            }
            var old = OldName.Match(name);
            if (!old.Success || !WriterGone(old.Groups[2].Value)) continue;
            var target = Path.Combine(parent, old.Groups[1].Value);
            if (Directory.Exists(target)) { Directory.Delete(dir, recursive: true); continue; }
            Directory.Move(dir, target);
            done.Add($"restored {old.Groups[1].Value} (a run stopped while replacing it)");
        }
        if (AtomicFile.RemoveStale(parent) is > 0 and var files) done.Add($"removed {files} temp file(s) of a stopped run");
        return done;
    }

    private static readonly Regex StagingName = new(@"^\.(.+)\.tmp-([0-9]+)-[0-9a-f]{32}$", RegexOptions.CultureInvariant);
    private static readonly Regex OldName = new(@"^\.(.+)\.old-([0-9]+)-[0-9a-f]{32}$", RegexOptions.CultureInvariant);

    // Names carry their writer's process id; one that does not parse is left alone.
    private static bool WriterGone(string pid) =>
        int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && !AtomicFile.ProcessIsAlive(id);

    // Two renames, not one: a directory cannot be renamed over a non-empty one. Between them only the `.old` copy
    // exists, which RecoverInterrupted puts back.
    private static void Commit(string stage, string dir)
    {
        if (!Directory.Exists(dir)) { Directory.Move(stage, dir); return; }
        var old = Path.Combine(Path.GetDirectoryName(dir)!, $".{Path.GetFileName(dir)}.old-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.Move(dir, old);
        Directory.Move(stage, dir);
        Directory.Delete(old, recursive: true);
    }
}
