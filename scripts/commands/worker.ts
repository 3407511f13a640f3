import * as path from 'node:path';
import type { Command } from 'commander';
import { startWorker } from '../../workers/worker';
import { TASK_QUEUE } from '../../workers/config';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the worker; without TEMPORAL_ADDRESS it starts an embedded Temporal dev server (SQLite under .data/, UI on :8233)')
    .option('--task-queue <name>', 'task queue', TASK_QUEUE)
    .option('--data-dir <dir>', 'folder of the embedded server\'s SQLite, log and pid file (default .data/ in the repository)')
    .option('--port <n>', 'embedded server gRPC port', Number, 7233)
    .option('--ui-port <n>', 'embedded server Web UI port', Number, 8233)
    .action(async (options: { taskQueue: string; dataDir?: string; port: number; uiPort: number }) => {
      const dbFile = options.dataDir ? path.join(path.resolve(options.dataDir), 'temporal.sqlite') : undefined;
      const worker = await startWorker({ taskQueue: options.taskQueue, devServer: { dbFile, port: options.port, uiPort: options.uiPort } });
      if (worker.replacedServerPid) {
        console.log(`stopped the embedded Temporal server (pid ${worker.replacedServerPid}) a killed worker had left running`);
      }
      console.log(`worker running on ${worker.address} namespace ${worker.namespace} task queue ${options.taskQueue}`);
      if (worker.uiUrl) console.log(`Temporal UI: ${worker.uiUrl}/namespaces/${worker.namespace}/workflows`);
      const stop = () => void worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await worker.done;
      console.log('worker stopped');
    });
}
