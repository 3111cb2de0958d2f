#!/usr/bin/env bash
# Adds new public symbols to each package's PublicAPI.Unshipped.txt (and drops removed ones).
# Review the diff: every line is a promise to host apps.
set -euo pipefail
cd "$(dirname "$0")/.."
for proj in src/*/*.csproj; do
  dotnet format analyzers "$proj" --diagnostics RS0016 RS0017 --severity info >/dev/null 2>&1 || true
done
git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt' || true
