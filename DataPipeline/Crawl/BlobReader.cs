using System.Runtime.InteropServices;
using LibGit2Sharp;

namespace CodeLm.DataPipeline.Crawl;

/// <summary>
/// Reads blobs of one repository with one object-database read each, through the libgit2 that LibGit2Sharp ships and has
/// loaded. LibGit2Sharp's <see cref="Blob"/> reads (inflates, applies deltas to) the object once to look it up, again for
/// its size and again for its content stream: libgit2 caches no blob, so every file of a build was decompressed three
/// times (docs/benchmarks.md, "codelm data build"). Not thread-safe: one reader per thread, as with a Repository.
/// </summary>
public sealed partial class BlobReader : IDisposable
{
    // LibGit2Sharp.NativeBinaries' library name (it changes with that package's version; Directory.Packages.props pins it).
    private const string Lib = "git2-5853918";
    private nint _repo, _odb;

    static BlobReader()
    {
        _ = GlobalSettings.Version; // LibGit2Sharp loads libgit2 and initialises it (git_libgit2_init)
        NativeLibrary.SetDllImportResolver(typeof(BlobReader).Assembly, (name, assembly, searchPath) => name == Lib ? Load(assembly, searchPath) : 0);
    }

    /// <summary>The copy LibGit2Sharp loaded: beside a JIT-compiled app it lies in runtimes/&lt;rid&gt;/native, where only
    /// LibGit2Sharp's own resolver looks; an ahead-of-time binary may have it beside itself.</summary>
    private static nint Load(System.Reflection.Assembly assembly, DllImportSearchPath? searchPath)
    {
        var file = $"lib{Lib}.so";
        string?[] candidates =
        [
            string.IsNullOrEmpty(GlobalSettings.NativeLibraryPath) ? null : Path.Combine(GlobalSettings.NativeLibraryPath, file),
            Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", file),
            Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", file),
        ];
        foreach (var path in candidates)
            if (path != null && NativeLibrary.TryLoad(path, out var handle)) return handle;
        return NativeLibrary.Load(Lib, assembly, searchPath);
    }

    /// <exception cref="LibGit2SharpException">The path is no repository, or its object database cannot be opened.</exception>
    public BlobReader(string repositoryPath)
    {
        Check(git_repository_open(out _repo, repositoryPath), $"cannot open the repository {repositoryPath}");
        Check(git_repository_odb(out _odb, _repo), $"cannot open the object database of {repositoryPath}");
    }

    /// <summary>The blob's content, copied into the memory <paramref name="buffer"/> gives for its size (at least that long).</summary>
    /// <exception cref="LibGit2SharpException">The object is missing or cannot be read.</exception>
    public unsafe Memory<byte> Read(ObjectId id, Func<int, Memory<byte>> buffer)
    {
        ObjectDisposedException.ThrowIf(_odb == 0, this);
        var oid = id.RawId;
        nint obj;
        fixed (byte* raw = oid) Check(git_odb_read(out obj, _odb, raw), $"cannot read object {id}");
        try
        {
            int size = checked((int)git_odb_object_size(obj));
            var into = buffer(size)[..size];
            new ReadOnlySpan<byte>((void*)git_odb_object_data(obj), size).CopyTo(into.Span);
            return into;
        }
        finally
        {
            git_odb_object_free(obj);
        }
    }

    public void Dispose()
    {
        if (_odb != 0) git_odb_free(_odb);
        if (_repo != 0) git_repository_free(_repo);
        _odb = _repo = 0;
    }

    private static void Check(int code, string what)
    {
        if (code >= 0) return;
        var error = git_error_last();
        var message = error == 0 ? null : Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(error));
        throw new LibGit2SharpException($"{what}: {message ?? "libgit2 error " + code}");
    }

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int git_repository_open(out nint repo, string path);
    [LibraryImport(Lib)] private static partial int git_repository_odb(out nint odb, nint repo);
    [LibraryImport(Lib)] private static unsafe partial int git_odb_read(out nint obj, nint odb, byte* oid);
    [LibraryImport(Lib)] private static partial nint git_odb_object_data(nint obj);
    [LibraryImport(Lib)] private static partial nuint git_odb_object_size(nint obj);
    [LibraryImport(Lib)] private static partial void git_odb_object_free(nint obj);
    [LibraryImport(Lib)] private static partial void git_odb_free(nint odb);
    [LibraryImport(Lib)] private static partial void git_repository_free(nint repo);
    [LibraryImport(Lib)] private static partial nint git_error_last();
}
