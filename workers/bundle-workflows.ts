/**
 * Bundles the workflows into one file (`node --import tsx workers/bundle-workflows.ts OUT`): at build
 * time into dist/workflow-bundle.js (scripts/build.sh), and at a worker's start from the sources. The
 * worker runs this in a child process: webpack and its loaders would otherwise stay in the
 * worker's memory for its whole life (about 100 MiB).
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(out: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error } });
  writeFileSync(out, code);
}

main(process.argv[2] ?? '').catch((error) => {
  console.error(error);
  process.exit(1);
});
