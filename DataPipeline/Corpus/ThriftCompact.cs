using System.Buffers;
using System.Text;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// The part of Thrift's compact protocol that a Parquet writer needs: structs of i32, i64, binary, lists and nested
/// structs, written into a growable buffer. Parquet's page headers and its footer are compact-protocol structs
/// (parquet-format's parquet.thrift); field ids are the ones declared there.
/// </summary>
internal sealed class ThriftCompact
{
    private const byte I32Type = 5, I64Type = 6, BinaryType = 8, ListType = 9, StructType = 12;
    private readonly ArrayBufferWriter<byte> _out = new(256);
    private readonly Stack<short> _outer = new();
    private short _lastField;

    public ReadOnlySpan<byte> Written => _out.WrittenSpan;

    public void Clear()
    {
        _out.ResetWrittenCount();
        _outer.Clear();
        _lastField = 0;
    }

    public void I32(short field, int value)
    {
        Header(field, I32Type);
        Varint(ZigZag(value));
    }

    public void I64(short field, long value)
    {
        Header(field, I64Type);
        Varint(ZigZag(value));
    }

    public void Binary(short field, string value)
    {
        Header(field, BinaryType);
        String(value);
    }

    /// <summary>Opens a struct-valued field; close it with <see cref="EndStruct"/>.</summary>
    public void BeginStruct(short field)
    {
        Header(field, StructType);
        BeginListStruct();
    }

    /// <summary>Opens one struct element of a list of structs (field ids restart at 0 inside it).</summary>
    public void BeginListStruct()
    {
        _outer.Push(_lastField);
        _lastField = 0;
    }

    public void EndStruct()
    {
        Byte(0);
        _lastField = _outer.Pop();
    }

    /// <summary>Ends the top-level struct.</summary>
    public void End() => Byte(0);

    public void ListOfStructs(short field, int count) => ListHeader(field, StructType, count);

    public void ListOfI32(short field, ReadOnlySpan<int> values)
    {
        ListHeader(field, I32Type, values.Length);
        foreach (var v in values) Varint(ZigZag(v));
    }

    public void ListOfBinary(short field, ReadOnlySpan<string> values)
    {
        ListHeader(field, BinaryType, values.Length);
        foreach (var v in values) String(v);
    }

    private void ListHeader(short field, byte elementType, int count)
    {
        Header(field, ListType);
        if (count < 15) Byte((byte)(count << 4 | elementType));
        else
        {
            Byte((byte)(0xF0 | elementType));
            Varint((ulong)count);
        }
    }

    private void Header(short field, byte type)
    {
        int delta = field - _lastField;
        if (delta is > 0 and <= 15) Byte((byte)(delta << 4 | type));
        else
        {
            Byte(type);
            Varint(ZigZag(field));
        }
        _lastField = field;
    }

    private void String(string value)
    {
        int n = Encoding.UTF8.GetByteCount(value);
        Varint((ulong)n);
        Encoding.UTF8.GetBytes(value, _out.GetSpan(n));
        _out.Advance(n);
    }

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    private void Varint(ulong v)
    {
        var span = _out.GetSpan(10);
        int i = 0;
        while (v >= 0x80)
        {
            span[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        span[i++] = (byte)v;
        _out.Advance(i);
    }

    private void Byte(byte b)
    {
        _out.GetSpan(1)[0] = b;
        _out.Advance(1);
    }
}
