// Mutation testing (StrykerJS), run by hand like a benchmark: `npm run mutation` (see
// scripts/mutation.sh and docs/mutation.md). Not part of `npm test` or CI.
//
// Runner: the TAP runner runs one unit test file per node process, straight from TypeScript
// through tsx (no build), with Stryker's hook preloaded. Coverage is per test *file* (the TAP
// runner's granularity): each mutant reruns only the files that reach it.
// Only test/unit: test/lab and test/workflow need namespaces, sshd and a Temporal server.

import { readdirSync, readFileSync } from 'node:fs';
import process from 'node:process';

// Left out: files that start the CLI. Their children cannot see Stryker's active mutant, so they
// kill nothing, yet per-file coverage would rerun them (up to a minute each) for every inventory
// mutant: inventory-hostile (the fixtures through the CLI) and inventory-cli.
const SLOW_OR_BLIND = new Set(['inventory-hostile.test.ts', 'inventory-cli.test.ts']);
// MUTATION_TESTS=inventory: only the test files that import inventory/ (or test/helpers/inventory). Mutants that run while a
// module loads (a zod schema's regexes and limits: "static" mutants) cannot be traced to a test
// file, so Stryker runs every file against them; only files that import the module can kill them.
const importing = process.env.MUTATION_TESTS;
// MUTATION_TEST_FILES=inventory-yaml,inventory: only these test files (test/unit/<name>.test.ts), for
// a file whose behaviour a few files pin (the YAML readers), when every file reaching it is slow.
const only = process.env.MUTATION_TEST_FILES?.split(',').map((name) => `${name}.test.ts`);
const testFiles = readdirSync('test/unit')
  .filter((f) => f.endsWith('.test.ts') && !SLOW_OR_BLIND.has(f))
  .filter((f) => !importing || readFileSync(`test/unit/${f}`, 'utf8').includes(`/${importing}`))
  .filter((f) => !only || only.includes(f))
  .map((f) => `test/unit/${f}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    testFiles,
    // Run the file itself (not `node --test`, whose child processes would not have the hook).
    nodeArgs: ['-r', '{{hookFile}}', '--import', 'tsx', '--test-reporter=tap', '{{testFile}}'],
    forceBail: true,
  },
  coverageAnalysis: 'perTest',
  mutate: ['core/zfs/*.ts', 'core/names.ts', 'core/cron.ts', 'core/show.ts', 'inventory/*.ts', 'inventory/checks/*.ts'],
  // The sandbox is a copy of the project: leave out what the unit tests never read.
  ignorePatterns: ['.venv', '.data', 'lab/bin', 'lab/vcsim', 'reports', 'docs', '*.log'],
  concurrency: 2,
  timeoutMS: 20000,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
