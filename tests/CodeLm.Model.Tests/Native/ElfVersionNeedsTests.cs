using CodeLm.Model.Native;

namespace CodeLm.Model.Tests.Native;

public class ElfVersionNeedsTests
{
    private static string GluePath()
    {
        var dir = TorchNativeLoader.FindNativeDir() ?? throw new InvalidOperationException("libLibTorchSharp.so not in the test output");
        return Path.Combine(dir, TorchNativeLoader.GlueFile);
    }

    [Fact]
    public void Real_glue_needs_GLIBCXX_3_4_32_non_weak()
    {
        var needs = ElfVersionNeeds.Read(File.ReadAllBytes(GluePath()));
        var req = Assert.Single(needs, n => n.Version == "GLIBCXX_3.4.32");
        Assert.Equal("libstdc++.so.6", req.File);
        Assert.False(req.IsWeak);
        Assert.Contains(needs, n => n.File == "libc.so.6" && n.Version == "GLIBC_2.2.5");
    }

    [Fact]
    public void MarkWeak_flips_one_flag_and_leaves_everything_else()
    {
        var original = File.ReadAllBytes(GluePath());
        var patched = (byte[])original.Clone();

        Assert.Equal(1, ElfVersionNeeds.MarkWeak(patched, "libstdc++.so.6", "GLIBCXX_3.4.32"));

        var before = ElfVersionNeeds.Read(original);
        var after = ElfVersionNeeds.Read(patched);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].File, after[i].File);
            Assert.Equal(before[i].Version, after[i].Version);
            var expected = before[i].Version == "GLIBCXX_3.4.32" ? (ushort)(before[i].Flags | VersionRequirement.WeakFlag) : before[i].Flags;
            Assert.Equal(expected, after[i].Flags);
        }

        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        var flagsAt = before.Single(n => n.Version == "GLIBCXX_3.4.32").FlagsOffset;
        Assert.Single(changed);
        Assert.InRange(changed[0], flagsAt, flagsAt + 1);

        // Idempotent: a second pass finds nothing left to relax.
        Assert.Equal(0, ElfVersionNeeds.MarkWeak(patched, "libstdc++.so.6", "GLIBCXX_3.4.32"));
    }

    [Fact]
    public void Rejects_files_that_are_not_ELF64()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read("#!/bin/sh\necho not an elf\n"u8.ToArray()));
        var truncated = File.ReadAllBytes(GluePath())[..4096];
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(truncated));
    }

    [Fact]
    public void Patched_copy_is_written_once_into_the_cache_and_never_beside_the_original()
    {
        using var cache = new CodeLm.Tests.TempDir();
        var saved = Environment.GetEnvironmentVariable("CODELM_CACHE");
        Environment.SetEnvironmentVariable("CODELM_CACHE", cache.Path);
        try
        {
            var glue = GluePath();
            var originalBytes = File.ReadAllBytes(glue);
            var first = TorchNativeLoader.CreatePatchedCopy(glue);
            var stamp = File.GetLastWriteTimeUtc(first);
            var second = TorchNativeLoader.CreatePatchedCopy(glue);

            Assert.Equal(first, second);
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(second));
            Assert.StartsWith(cache.Path, first);
            Assert.Equal(originalBytes, File.ReadAllBytes(glue)); // the package's file is untouched
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(first)!, "*.tmp"));
            Assert.True(ElfVersionNeeds.Read(File.ReadAllBytes(first)).Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
        }
        finally
        {
            Environment.SetEnvironmentVariable("CODELM_CACHE", saved);
        }
    }
}
