import * as path from 'node:path';
import type { Command } from 'commander';
import { startWorker } from '../../workers/worker';
import { TASK_QUEUE } from '../../workers/config';
import { DEFAULT_METRICS_ADDRESS, installRuntime, logFormat, metricsSetting } from '../../workers/observability';

interface WorkerOptions {
  taskQueue: string;
  dataDir?: string;
  port: number;
  uiPort: number;
  metricsAddress?: string;
  uiCodecEndpoint?: string;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the worker; without TEMPORAL_ADDRESS it starts an embedded Temporal dev server (SQLite under .data/, UI on :8233)')
    .option('--task-queue <name>', 'task queue', TASK_QUEUE)
    .option('--data-dir <dir>', 'folder of the embedded server\'s SQLite, log and pid file (default .data/ in the repository)')
    .option('--port <n>', 'embedded server gRPC port', Number, 7233)
    .option('--ui-port <n>', 'embedded server Web UI port', Number, 8233)
    .option('--ui-codec-endpoint <url>', 'the codec server the embedded server\'s Web UI decodes payloads with (see `esxi-zfs codec-server`)')
    .option('--metrics-address <ip:port>', `Prometheus /metrics endpoint, or off (default ESXI_ZFS_METRICS_ADDRESS, else ${DEFAULT_METRICS_ADDRESS}); logs are JSON lines with ESXI_ZFS_LOG_FORMAT=json`)
    .action(async (options: WorkerOptions) => {
      const format = logFormat(process.env.ESXI_ZFS_LOG_FORMAT);
      // Before any connection: the Runtime is the process's one, with its metrics and logger.
      const runtime = installRuntime({ metrics: metricsSetting(options.metricsAddress, process.env.ESXI_ZFS_METRICS_ADDRESS), logFormat: format });
      const say = (message: string, attributes: Record<string, unknown> = {}) =>
        format === 'json' ? runtime.logger.info(message, attributes) : console.log(message);
      if (runtime.metricsWarning) runtime.logger.warn(runtime.metricsWarning);

      const dbFile = options.dataDir ? path.join(path.resolve(options.dataDir), 'temporal.sqlite') : undefined;
      const worker = await startWorker({ taskQueue: options.taskQueue, devServer: { dbFile, port: options.port, uiPort: options.uiPort, uiCodecEndpoint: options.uiCodecEndpoint } });
      if (worker.replacedServerPid) {
        say(`stopped the embedded Temporal server (pid ${worker.replacedServerPid}) a killed worker had left running`);
      }
      if (worker.codecKeyId) say(`payloads encrypted (AES-256-GCM) with key id ${worker.codecKeyId}`, { codecKeyId: worker.codecKeyId });
      const { address, namespace } = worker;
      say(`worker running on ${address} namespace ${namespace} task queue ${options.taskQueue}`, { address, namespace, taskQueue: options.taskQueue });
      if (runtime.metricsAddress) say(`metrics: http://${runtime.metricsAddress}/metrics`, { metricsAddress: runtime.metricsAddress });
      if (worker.uiUrl) say(`Temporal UI: ${worker.uiUrl}/namespaces/${namespace}/workflows`);
      const stop = () => void worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await worker.done;
      say('worker stopped');
    });
}
