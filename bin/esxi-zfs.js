#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2 (MB): V8's young generation, in each isolate (the worker's and its
// workflow thread's), otherwise grows to 32 MiB under load: 100-200 runs at once took the
// worker's peak RSS from ~175 to 266 MiB, with it 214 MiB, no slower (bench-replication).
// Start the worker as `esxi-zfs worker` or `bin/esxi-zfs.js worker` (not `node bin/...`).
// The CLI runs from TypeScript source through tsx: no build step between a change and a run.
//
// Exit codes: 0 done; 2 the input is at fault (an inventory with problems: an error carrying
// exitCode 2, whose message is its report, already one escaped line per problem); 1 anything
// else, the tool's own failure.
require('tsx/cjs');
require('../scripts/cli.ts').main(process.argv).catch((error) => {
  const reported = error && typeof error.exitCode === 'number';
  console.error(reported ? error.message : `esxi-zfs: ${error && error.message ? error.message : error}`);
  process.exit(reported ? error.exitCode : 1);
});
