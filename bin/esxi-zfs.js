#!/usr/bin/env node
// The worker's young generation: `NODE_OPTIONS=--max-semi-space-size=2 esxi-zfs worker` (the
// Dockerfile and the demo set it) keeps V8's semi-space at 2 MiB in each isolate (the worker's and
// its workflow thread's), which otherwise grows to 32 MiB under load: 100-200 runs at once took
// the worker's peak RSS from ~175 to 266 MiB, with it 214 MiB, no slower (bench-replication). Not
// in this shebang: every other command would pay for it in scavenges (validate of a 10 MB
// inventory: 3.3 s with it, 2.4 s without).
// In a checkout the CLI runs from the TypeScript sources through tsx: no build step between a
// change and a run, and never a stale dist/. The packed package has no sources: it runs dist/,
// compiled by `npm run build` (npm pack's prepack), and needs no tsx.
//
// Exit codes: 0 done; 2 the input is at fault (an inventory with problems: an error carrying
// exitCode 2, whose message is its report, already one escaped line per problem); 1 anything
// else, the tool's own failure.
const { existsSync } = require('node:fs');
const path = require('node:path');

const source = path.join(__dirname, '..', 'scripts', 'cli.ts');
let cli;
if (existsSync(source)) {
  require('tsx/cjs');
  cli = require(source);
} else {
  cli = require('../dist/scripts/cli.js');
}
cli.main(process.argv).catch((error) => {
  const reported = error && typeof error.exitCode === 'number';
  console.error(reported ? error.message : `esxi-zfs: ${error && error.message ? error.message : error}`);
  process.exit(reported ? error.exitCode : 1);
});
