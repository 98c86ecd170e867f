"""Independent reader of a Megatron MMIDIDX v1 dataset (plain struct, no numpy), used by the C# tests.

usage: python3 read_mmididx.py <prefix>
prints JSON: {"magic": hex, "version", "dtype", "sequences", "doc_idx", "documents": [[ids...], ...]}
"""
import json
import struct
import sys

WIDTH = {8: ("H", 2), 4: ("i", 4), 1: ("B", 1), 3: ("h", 2), 5: ("q", 8)}

prefix = sys.argv[1]
with open(prefix + ".idx", "rb") as f:
    idx = f.read()
with open(prefix + ".bin", "rb") as f:
    data = f.read()

magic = idx[:9]
version, = struct.unpack_from("<Q", idx, 9)
dtype = idx[17]
sequences, doc_count = struct.unpack_from("<QQ", idx, 18)
at = 34
sizes = struct.unpack_from("<%di" % sequences, idx, at); at += 4 * sequences
pointers = struct.unpack_from("<%dq" % sequences, idx, at); at += 8 * sequences
doc_idx = struct.unpack_from("<%dq" % doc_count, idx, at); at += 8 * doc_count
assert at == len(idx), "trailing bytes in index"
code, width = WIDTH[dtype]
documents = [list(struct.unpack_from("<%d%s" % (n, code), data, p)) for n, p in zip(sizes, pointers)]
assert sum(sizes) * width == len(data), "bin size does not match index"
json.dump({"magic": magic.hex(), "version": version, "dtype": dtype, "sequences": sequences,
           "doc_idx": list(doc_idx), "pointers": list(pointers), "documents": documents}, sys.stdout)
