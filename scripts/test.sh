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
if [ "$#" -gt 0 ]; then files=("$@"); else files=(test/unit/*.test.ts test/workflow/*.test.ts test/lab/*.test.ts); fi
# One file at a time: lab files share the machine's namespaces and ports.
status=0
node --import tsx --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "${files[@]}" || status=$?
# The reliability cases wrote their results (docs/reliability/results): the report follows them,
# passed or failed, after a full run.
if [ "$#" -eq 0 ]; then node --import tsx test/reliability/report.ts; fi
exit "$status"
