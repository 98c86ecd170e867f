using System.Buffers.Binary;
using System.Text;

namespace CodeLm.Model.Native;

/// <summary>One entry of an ELF file's .gnu.version_r section: "this file needs version V of library F".</summary>
public sealed record VersionRequirement(string File, string Version, ushort Flags, long FlagsOffset)
{
    public const ushort WeakFlag = 0x2; // VER_FLG_WEAK
    public bool IsWeak => (Flags & WeakFlag) != 0;
}

/// <summary>
/// Reads and edits the version requirements (SHT_GNU_verneed) of a 64-bit little-endian ELF shared object.
/// The dynamic loader refuses a library whose non-weak requirement is missing from the providing library,
/// but only warns (under LD_DEBUG) about a weak one, so flipping VER_FLG_WEAK relaxes exactly one requirement.
/// </summary>
public static class ElfVersionNeeds
{
    private const uint ShtGnuVerneed = 0x6ffffffe;

    public static IReadOnlyList<VersionRequirement> Read(ReadOnlySpan<byte> elf)
    {
        CheckHeader(elf);
        ulong shoff = U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        if (shoff == 0 || shnum == 0)
            throw new InvalidDataException("ELF file has no section headers; cannot locate .gnu.version_r.");

        var result = new List<VersionRequirement>();
        for (int i = 0; i < shnum; i++)
        {
            var sh = Slice(elf, shoff + (ulong)(i * shentsize), 64);
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed) continue;

            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]);
            uint link = BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]);
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]);
            var strtabHeader = Slice(elf, shoff + (ulong)(link * shentsize), 64);
            ulong strtab = BinaryPrimitives.ReadUInt64LittleEndian(strtabHeader[24..]);

            ulong need = offset;
            for (uint n = 0; n < count; n++)
            {
                var vn = Slice(elf, need, 16);
                ushort auxCount = BinaryPrimitives.ReadUInt16LittleEndian(vn[2..]);
                string file = CString(elf, strtab + BinaryPrimitives.ReadUInt32LittleEndian(vn[4..]));
                ulong aux = need + BinaryPrimitives.ReadUInt32LittleEndian(vn[8..]);
                for (int a = 0; a < auxCount; a++)
                {
                    var va = Slice(elf, aux, 16);
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(va[4..]);
                    string version = CString(elf, strtab + BinaryPrimitives.ReadUInt32LittleEndian(va[8..]));
                    result.Add(new VersionRequirement(file, version, flags, (long)aux + 4));
                    uint nextAux = BinaryPrimitives.ReadUInt32LittleEndian(va[12..]);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(vn[12..]);
                if (next == 0) break;
                need += next;
            }
        }
        return result;
    }

    /// <summary>Sets VER_FLG_WEAK on every requirement of <paramref name="version"/> from <paramref name="file"/>. Returns how many were changed.</summary>
    public static int MarkWeak(Span<byte> elf, string file, string version)
    {
        int changed = 0;
        foreach (var req in Read(elf))
        {
            if (req.File != file || req.Version != version || req.IsWeak) continue;
            BinaryPrimitives.WriteUInt16LittleEndian(elf[(int)req.FlagsOffset..], (ushort)(req.Flags | VersionRequirement.WeakFlag));
            changed++;
        }
        return changed;
    }

    private static void CheckHeader(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("Not an ELF file.");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("Only 64-bit little-endian ELF files are supported.");
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> elf, ulong offset, int length)
    {
        if (offset + (ulong)length > (ulong)elf.Length)
            throw new InvalidDataException($"ELF structure at offset {offset} runs past the end of the file.");
        return elf.Slice((int)offset, length);
    }

    private static ushort U16(ReadOnlySpan<byte> elf, int at) => BinaryPrimitives.ReadUInt16LittleEndian(elf[at..]);
    private static ulong U64(ReadOnlySpan<byte> elf, int at) => BinaryPrimitives.ReadUInt64LittleEndian(elf[at..]);

    private static string CString(ReadOnlySpan<byte> elf, ulong offset)
    {
        if (offset >= (ulong)elf.Length) throw new InvalidDataException("ELF string offset out of range.");
        var rest = elf[(int)offset..];
        int end = rest.IndexOf((byte)0);
        if (end < 0) throw new InvalidDataException("Unterminated ELF string.");
        return Encoding.ASCII.GetString(rest[..end]);
    }
}
