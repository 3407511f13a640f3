#!/usr/bin/env bash
# Mutation testing with StrykerJS (stryker.config.mjs), run by hand like a benchmark: not part of
# `npm test` nor CI. See docs/mutation.md for timings, scores and the known equivalent mutants.
#
#   npm run mutation                                   # the default set (stryker.config.mjs `mutate`)
#   npm run mutation -- --mutate core/zfs/plan.ts      # one file (any Stryker CLI option passes through)
#   MUTATE=core/zfs/plan.ts,core/zfs/parse.ts npm run mutation   # the same, by environment
#   MUTATION_FULL=1 npm run mutation                   # ignore the incremental file, test every mutant again
#
# Output: the per-file score table on stdout; HTML and JSON under reports/mutation/ (git-ignored).
# Incremental: reports/mutation/stryker-incremental.json remembers results, so a re-run only tests
# mutants whose code or covering tests changed.
#
# StrykerJS 10 requires Node >= 22 while the project runs on Node 20: when the `node` on PATH is
# older, Stryker (and the test processes it spawns, which use the same PATH) runs under Node 22
# from the npm registry's `node` package, through npx (cached after the first run).
set -euo pipefail
cd "$(dirname "$0")/.."

args=(run stryker.config.mjs)
if [[ -n "${MUTATE:-}" ]]; then args+=(--mutate "$MUTATE"); fi
if [[ "${MUTATION_FULL:-0}" == 1 ]]; then args+=(--force); fi
args+=("$@")

stryker=node_modules/@stryker-mutator/core/bin/stryker.js
start=$(date +%s)
major=$(node -p 'process.versions.node.split(".")[0]')
if (( major >= 22 )); then
  node "$stryker" "${args[@]}"
else
  npx --yes -p node@22 -- node "$stryker" "${args[@]}"
fi
echo "mutation: $(( $(date +%s) - start )) s"
