#!/usr/bin/env bash
# Runs every test suite of the project: the C# suites (xunit) and the VS Code extension's (mocha).
# Usage: scripts/test-all.sh        (installs what the tests need first; see install-test-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1

scripts/install-test-deps.sh
# The staged data build's tests submit to a real Slurm.
scripts/start-slurm.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet build CodeLm.sln -c Release -nologo -clp:ErrorsOnly
# One test project at a time: several run the model, toolchains or a Slurm pipeline on both cores, and tests that
# race a deadline (a cancel, an output cap) must not share the machine with another suite's processes.
for project in tests/*/*.Tests.csproj; do
  dotnet test "$project" -c Release --no-build -nologo 2>&1 | tee -a "$log" || status=1
done

(cd vscode-extension && npm test 2>&1) | tee -a "$log" || status=1

# The extension in a real VS Code (code-server) driven by headless Chromium; installs code-server on first run.
tests/editor-e2e/run.sh 2>&1 | tee -a "$log" || status=1

# One closing line over all suites: dotnet's "Passed: N" / "Failed: N" per assembly and mocha's "N passing" / "N failing".
sum() { grep -aoE "$1" "$log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}'; }
passed=$(sum '(Passed: +[0-9]+|[0-9]+ passing)')
failed=$(sum '(Failed: +[0-9]+|[0-9]+ failing)')
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] || status=1
exit $status
