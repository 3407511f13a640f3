// Mutation testing (StrykerJS), run by hand like a benchmark: `npm run mutation` (see
// scripts/mutation.sh and docs/mutation.md). Not part of `npm test` or CI.
//
// Runner: the TAP runner runs one unit test file per node process, straight from TypeScript
// through tsx (no build), with Stryker's hook preloaded. Coverage is per test *file* (the TAP
// runner's granularity): each mutant reruns only the files that reach it.
// Only test/unit: test/lab and test/workflow need namespaces, sshd and a Temporal server.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    testFiles: ['test/unit/*.test.ts'],
    // Run the file itself (not `node --test`, whose child processes would not have the hook).
    nodeArgs: ['-r', '{{hookFile}}', '--import', 'tsx', '--test-reporter=tap', '{{testFile}}'],
    forceBail: true,
  },
  coverageAnalysis: 'perTest',
  mutate: ['core/zfs/*.ts', 'core/names.ts', 'inventory/*.ts'],
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
