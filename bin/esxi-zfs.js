#!/usr/bin/env node
// The CLI runs from TypeScript source through tsx: no build step between a change and a run.
require('tsx/cjs');
require('../scripts/cli.ts').main(process.argv).catch((error) => {
  console.error(`esxi-zfs: ${error && error.message ? error.message : error}`);
  process.exit(typeof error?.exitCode === 'number' ? error.exitCode : 1);
});
