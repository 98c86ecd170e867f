#!/usr/bin/env bash
# End-to-end test of the CodeLm extension in a real VS Code: the packaged .vsix installed in code-server
# (VS Code 1.100.3 in the browser), driven by headless Chromium, completing from the real `codelm serve`.
# One script does everything: Debian packages (as root), npm packages, the code-server install (kept in
# .code-server/ and reused while its version matches), the .vsix, and the test. Artifacts: artifacts/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1

CODE_SERVER_VERSION=4.100.3          # the newest that runs on node 20 (later ones need node 22+)
RIPGREP_PACKAGE_VERSION=1.15.11      # @vscode/ripgrep, a code-server dependency
# The release asset its postinstall looks for: 1.15.11 from the npm registry asks for v13.0.0-10; -13 is seeded too
# in case a rebuild of the package moves to it.
RIPGREP_ASSETS=(ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz ripgrep-v13.0.0-13-x86_64-unknown-linux-musl.tar.gz)

fail() { echo "editor-e2e: FAILED: $*" >&2; exit 1; }
mkdir -p "$here/artifacts"

# 1. Debian packages: Chromium to drive, ripgrep for code-server's search, headers for its native modules.
apt_packages=(chromium ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev build-essential pkg-config)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || fail "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  echo "editor-e2e: installing Debian packages: ${missing[*]}" >&2
  apt_log="$here/artifacts/apt-install.log"
  : >"$apt_log"
  apt_install() {
    apt-get -o DPkg::Lock::Timeout=600 update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
  }
  # A second try (after finishing any half-configured packages) rides out another apt run on the same machine.
  if ! apt_install >>"$apt_log" 2>&1; then
    if ! { DEBIAN_FRONTEND=noninteractive dpkg --configure -a && apt_install; } >>"$apt_log" 2>&1; then
      tail -n 40 "$apt_log" >&2
      fail "apt-get install ${missing[*]} failed (log tail above, full log in $apt_log)"
    fi
  fi
fi

# 2. The test's own npm packages (playwright-core, mocha), from the committed lock.
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fail "npm ci in tests/editor-e2e failed"

# 3. code-server, installed from npm (about 4 minutes: it builds native modules).
cs_dir="$here/.code-server"
cs_bin="$cs_dir/node_modules/.bin/code-server"
installed=$(node -p "require('$cs_dir/node_modules/code-server/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$CODE_SERVER_VERSION" ] || ! "$cs_bin" --version >/dev/null 2>&1; then
  # @vscode/ripgrep downloads rg from GitHub in its postinstall, which fails offline: seed its download cache
  # with Debian's rg, packed the way the release asset is.
  cache="$(node -p "require('os').tmpdir()")/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION"
  staging=$(mktemp -d)
  install -m 0755 /usr/bin/rg "$staging/rg"
  mkdir -p "$cache"
  for asset in "${RIPGREP_ASSETS[@]}"; do
    if [ ! -s "$cache/$asset" ]; then
      tar -czf "$cache/$asset.tmp" -C "$staging" rg && mv "$cache/$asset.tmp" "$cache/$asset"
    fi
  done
  rm -rf "$staging"
  echo "editor-e2e: installing code-server $CODE_SERVER_VERSION (a few minutes)" >&2
  rm -rf "$cs_dir" && mkdir -p "$cs_dir"
  echo '{ "name": "code-server-install", "private": true }' >"$cs_dir/package.json"
  install_log="$here/artifacts/code-server-install.log"
  started=$SECONDS
  if ! (cd "$cs_dir" && npm_config_yes=true npm_config_unsafe_perm=true \
        npm install --unsafe-perm --no-audit --no-fund "code-server@$CODE_SERVER_VERSION") >"$install_log" 2>&1; then
    echo "----- tail of $install_log -----" >&2
    tail -n 60 "$install_log" >&2
    fail "npm install code-server@$CODE_SERVER_VERSION failed (log tail above)"
  fi
  if ! "$cs_bin" --version >>"$install_log" 2>&1; then
    tail -n 60 "$install_log" >&2
    fail "code-server was installed but does not run (log tail above)"
  fi
  echo "editor-e2e: code-server installed in $((SECONDS - started)) s" >&2
fi

# 4. The extension package and the pieces the tiny checkpoint is made with (compiled test helpers, codelm.dll).
(
  cd "$repo/vscode-extension"
  [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null
  npm run --silent build >/dev/null
  npm run --silent package >/dev/null
) || fail "building the extension .vsix failed"
[ -s "$repo/vscode-extension/dist/codelm.vsix" ] || fail "no vscode-extension/dist/codelm.vsix"

# 5. The test.
export CODE_SERVER_BIN="$cs_bin" CODELM_VSIX="$repo/vscode-extension/dist/codelm.vsix"
cd "$here"
exec node_modules/.bin/mocha --timeout 600000 --reporter spec editor.test.js
