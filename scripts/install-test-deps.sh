#!/usr/bin/env bash
# Installs what the test suites run against: Debian packages for the reference implementations and
# toolchains (when root), and the npm packages the extension and the Node reference tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-torch: independent reader of exported checkpoints and the PyTorch reference loops (with OpenBLAS).
# neovim: a second, independent LSP client. The rest are the languages the eval harness executes, with what
# HumanEval-X's own harness provides them: Boost and OpenSSL for C++, testify for Go, regex and md5 for Rust
# (regex's default features, which bring aho-corasick and memchr, come only as a recommendation: named here).
# slurm-wlm and munge: a real single-node Slurm for the staged data build (scripts/start-slurm.sh starts it).
# openmpi-bin: the collectives of data-parallel CPU training, launched by mpirun and by srun --mpi=pmix.
apt_packages=(python3-torch libopenblas0-pthread neovim g++ default-jdk-headless util-linux git
  libboost-dev libssl-dev golang-go golang-github-stretchr-testify-dev rustc cargo librust-regex-dev librust-regex+default-dev librust-md5-dev
  slurm-wlm munge openmpi-bin libopenmpi-dev)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

for dir in vscode-extension tests/node-ref; do
  if [ -f "$dir/package-lock.json" ]; then
    echo "npm ci in $dir" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done

# HumanEval-X's JavaScript MD5 problem requires js-md5; the eval harness resolves global packages through NODE_PATH.
if ! [ -d "$(npm root -g)/js-md5" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "npm install -g js-md5" >&2
    npm install -g js-md5@0.8.3 --no-audit --no-fund --loglevel=error >/dev/null
  else
    echo "missing global npm package js-md5 (run: sudo npm install -g js-md5@0.8.3)" >&2
    exit 1
  fi
fi
