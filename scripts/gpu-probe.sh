#!/usr/bin/env bash
# Can TorchSharp's native glue run against a given libtorch? For the GPU route where the machine has a PyTorch build
# but no TorchSharp-cuda package: lists the libtorch/c10 symbols libLibTorchSharp.so needs that the target libtorch does
# not define (the C++ ABI is per version), then reports the GPU and PyTorch found, if any.
#   scripts/gpu-probe.sh [GLUE.so] [LIBTORCH_LIB_DIR]
# Defaults: the glue in the NuGet cache; the lib/ folder of the python3 that imports torch.
set -uo pipefail
for tool in nm c++filt; do
  command -v "$tool" >/dev/null || { echo "gpu-probe: '$tool' is missing (Debian: apt-get install binutils)" >&2; exit 2; }
done
glue=${1:-$(ls ~/.nuget/packages/torchsharp/*/runtimes/linux-x64/native/libLibTorchSharp.so 2>/dev/null | sort -V | tail -1)}
py=$(command -v python3)
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import torch' 2>/dev/null; then py=$p; break; fi
done
target=${2:-$("$py" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)}
[ -f "$glue" ] || { echo "gpu-probe: no libLibTorchSharp.so (give its path as the first argument)" >&2; exit 2; }
[ -d "$target" ] || { echo "gpu-probe: no libtorch lib/ folder (give it as the second argument)" >&2; exit 2; }

echo "glue:    $glue"
echo "target:  $target"
"$py" -c 'import torch; print("torch:  ", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>/dev/null
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# What the glue imports from libtorch and c10: functions and data in the at::, c10::, torch:: namespaces, and their
# typeinfo/vtables (_ZTI/_ZTV/_ZTS: catching c10::Error needs its typeinfo).
nm -D --undefined-only "$glue" | awk '{print $NF}' | sed 's/@.*//' \
  | grep -E '^_Z(T[IVS])?N?K?(2at|3c10|5torch|N2at|N3c10|N5torch)' | sort -u > "$work/needed"
[ -s "$work/needed" ] || { echo "gpu-probe: found no libtorch symbols in $glue: is it TorchSharp's glue?" >&2; exit 2; }
: > "$work/defined"
for lib in "$target"/libtorch*.so* "$target"/libc10*.so*; do
  [ -f "$lib" ] && nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' >> "$work/defined"
done
sort -u -o "$work/defined" "$work/defined"
comm -23 "$work/needed" "$work/defined" > "$work/missing"
echo "libtorch symbols the glue needs: $(wc -l < "$work/needed"); missing from the target: $(wc -l < "$work/missing")"
if [ -s "$work/missing" ]; then
  echo "first missing (demangled):"
  head -15 "$work/missing" | c++filt | sed 's/^/  /'
  exit 1
fi
echo "every symbol resolves: loading the glue against this libtorch is worth trying (see docs/gpu.md)"
