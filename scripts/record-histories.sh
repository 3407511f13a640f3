#!/usr/bin/env bash
# Records the histories the replay test replays (test/workflow/histories): runs every test
# that calls recordHistory(), or the test files given, with ESXI_ZFS_RECORD_HISTORIES=1, one file
# at a time on its own Temporal server; each writes the runs it records over their old files. Root, as
# every lab test. Review the diff (the sizes, no secret) before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(grep -l 'await recordHistory(' test/workflow/*.test.ts test/lab/*.test.ts); fi
ESXI_ZFS_RECORD_HISTORIES=1 bash scripts/test.sh "${files[@]}"
wc -c test/workflow/histories/*.json
