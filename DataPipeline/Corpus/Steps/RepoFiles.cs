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
    public static void List(Repository repo, string commitSha, int repoIndex, CleaningOptions o, List<CorpusFile> files,
                            Action<DropReason, long> drop, CancellationToken ct)
    {
        var commit = repo.Lookup<Commit>(commitSha) ?? throw new InvalidDataException($"commit {commitSha} is missing from the cached clone");
        var languages = o.Languages is null ? null : new HashSet<string>(o.Languages, StringComparer.OrdinalIgnoreCase);
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
                var reason = FileFilters.ByPath(path, size, o);
                var language = LanguageDetector.FromPath(path);
                if (reason == null && language == null && Path.HasExtension(path)) reason = DropReason.UnknownLanguage;
                if (reason == null && language != null && languages != null && !languages.Contains(language) && language != "C")
                    reason = DropReason.LanguageNotSelected;
                if (reason != null) { drop(reason.Value, size); continue; }
                files.Add(new CorpusFile(repoIndex, path, e.Target.Id, size, language));
            }
        }
    }
}
