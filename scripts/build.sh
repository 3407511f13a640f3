#!/usr/bin/env bash
# The package's runtime in dist/ (npm pack runs this as prepack): the CLI and the worker compiled
# to JavaScript, the files they read next to their code, and the workflows bundled once here so
# that a worker from the package starts without webpack. A checkout never runs dist/ (bin/ prefers
# the sources), so a stale build cannot hide a change.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
# Non-TypeScript files the compiled code reads from beside itself (activities/replication/byte-counter.py).
find activities core inventory workers workflows scripts -type f ! -name '*.ts' ! -name '*.sh' -print0 |
  while IFS= read -r -d '' file; do
    [ -d "dist/$(dirname "$file")" ] || continue
    install -D -m 0644 "$file" "dist/$file"
  done
node --import tsx workers/bundle-workflows.ts dist/workflow-bundle.js
