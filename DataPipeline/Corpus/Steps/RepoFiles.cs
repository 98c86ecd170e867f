using CodeLm.DataPipeline.Clean;
using LibGit2Sharp;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>
/// Lists the files of a commit without reading their contents: symlinks and submodules are recorded as drops (a symlink is
/// never followed, so nothing outside the repository can be read), path-level filters run here, and blob sizes come from
/// object headers.
/// </summary>
internal static class RepoFiles
{
    /// <summary>The set of languages to keep, or null for all: what <see cref="Verdict"/> takes.</summary>
    public static HashSet<string>? Selected(CleaningOptions o) =>
        o.Languages is null ? null : new HashSet<string>(o.Languages, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Why a file is dropped before it is read, from its path, size and the language its name (or a dataset) gives it:
    /// path filters, an extension no language has, or a language not selected. Null: read it. A clone's files and a
    /// dataset's rows are judged alike.
    /// </summary>
    public static DropReason? Verdict(string path, long size, string? language, CleaningOptions o, HashSet<string>? languages)
    {
        var reason = FileFilters.ByPath(path, size, o);
        if (reason == null && language == null && Path.HasExtension(path)) reason = DropReason.UnknownLanguage;
        if (reason == null && language != null && languages != null && !languages.Contains(language) && language != "C")
            reason = DropReason.LanguageNotSelected;
        return reason;
    }

    public static void List(Repository repo, string commitSha, int repoIndex, CleaningOptions o, List<CorpusFile> files,
                            Action<DropReason, long> drop, CancellationToken ct)
    {
        var commit = repo.Lookup<Commit>(commitSha) ?? throw new InvalidDataException($"commit {commitSha} is missing from the cached clone");
        var languages = Selected(o);
        Walk(commit.Tree, "");

        void Walk(Tree tree, string prefix)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var e in tree)
            {
                var path = prefix + e.Name;
                switch (e.Mode)
                {
                    case Mode.Directory:
                        if (FileFilters.IsVendored(path, o.VendoredDirectories)) { drop(DropReason.Vendored, 0); continue; }
                        Walk((Tree)e.Target, path + "/");
                        continue;
                    case Mode.GitLink:
                        drop(DropReason.Submodule, 0);
                        continue;
                    case Mode.SymbolicLink:
                        drop(DropReason.Symlink, 0);
                        continue;
                    case Mode.NonExecutableFile or Mode.ExecutableFile or Mode.NonExecutableGroupWritableFile:
                        break;
                    default:
                        continue;
                }
                long size = repo.ObjectDatabase.RetrieveObjectMetadata(e.Target.Id).Size;
                var language = LanguageDetector.FromPath(path);
                if (Verdict(path, size, language, o, languages) is { } reason) { drop(reason, size); continue; }
                files.Add(new CorpusFile(repoIndex, path, e.Target.Id, size, language));
            }
        }
    }
}
