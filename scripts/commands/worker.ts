import type { Command } from 'commander';
import { startWorker } from '../../workers/worker';
import { TASK_QUEUE } from '../../workers/config';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the worker; without TEMPORAL_ADDRESS it starts an embedded Temporal dev server (SQLite under .data/, UI on :8233)')
    .option('--task-queue <name>', 'task queue', TASK_QUEUE)
    .action(async (options: { taskQueue: string }) => {
      const worker = await startWorker({ taskQueue: options.taskQueue });
      console.log(`worker running on ${worker.address} namespace ${worker.namespace} task queue ${options.taskQueue}`);
      if (worker.uiUrl) console.log(`Temporal UI: ${worker.uiUrl}/namespaces/${worker.namespace}/workflows`);
      const stop = () => void worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await worker.done;
      console.log('worker stopped');
    });
}
