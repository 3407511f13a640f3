#!/usr/bin/env bash
# Every test: type-check, lint (the layers' import rules, no floating promises), then unit (pure),
# workflow (time-skipping server) and lab (real sshd, zfs-fuse, dev server).
# Sets up whatever is missing first, so it also works on a fresh clone. Must run as root (the lab
# makes network and mount namespaces). Extra arguments select test files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc --noEmit -p .
npx eslint --max-warnings 0 .
run() { node --import tsx --test --test-timeout=600000 --test-reporter=spec "$@"; }
status=0
if [ "$#" -gt 0 ]; then
  run --test-concurrency=1 "$@" || status=$?
else
  # Unit and workflow files share nothing (their servers take free ports): two at a time. Lab
  # files share the machine's namespaces and ports: one at a time.
  run --test-concurrency=2 test/unit/*.test.ts test/workflow/*.test.ts || status=$?
  run --test-concurrency=1 test/lab/*.test.ts || status=$?
fi
# The reliability cases wrote their results (docs/reliability/results): the report follows them,
# passed or failed, after a full run.
if [ "$#" -eq 0 ]; then node --import tsx test/reliability/report.ts; fi
exit "$status"
