/** The worker process: connects to (or starts) Temporal and runs every workflow and activity. */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { sshTransport } from '../activities/transport';
import { SshPool } from '../activities/ssh';
import { vsphereSessions } from '../activities/vsphere/sessions';
import { connectOrStart, type DevServerOptions } from './dev-server';
import { MAX_HEARTBEAT_THROTTLE, TASK_QUEUE } from './config';

const execFileAsync = promisify(execFile);

/** The workflow bundle, made by a child process so that webpack never loads into the worker. */
async function bundleInChildProcess(): Promise<string> {
  const dir = path.resolve(__dirname, '..', '.data');
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'workflow-bundle.js');
  await execFileAsync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bundle-workflows.ts'), out], { cwd: path.resolve(__dirname, '..') });
  return out;
}

export interface RunningWorker {
  address: string;
  namespace: string;
  uiUrl?: string;
  /** The pid of the embedded server a killed worker left running, stopped before ours started. */
  replacedServerPid?: number;
  /** Resolves when the worker has stopped (after `shutdown`, or on a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(opts: { taskQueue?: string; devServer?: DevServerOptions } = {}): Promise<RunningWorker> {
  const endpoint = await connectOrStart(opts.devServer);
  const pool = new SshPool();
  // vSphere's warnings (plain HTTP, no TLS check) go to the worker's log on every connect.
  const sessions = vsphereSessions({ warn: (message) => console.warn(`vSphere: ${message}`) });
  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect({ address: endpoint.address });
    const worker = await Worker.create({
      connection,
      namespace: endpoint.namespace,
      taskQueue: opts.taskQueue ?? TASK_QUEUE,
      workflowBundle: { codePath: await bundleInChildProcess() },
      activities: createActivities({ transport: sshTransport(pool), sessions, temporal: new Client({ connection, namespace: endpoint.namespace }) }),
      maxHeartbeatThrottleInterval: MAX_HEARTBEAT_THROTTLE,
    });
    const conn = connection;
    const done = worker.run().finally(async () => {
      await pool.closeAll();
      await sessions.closeAll();
      await conn.close();
      await endpoint.stop();
    });
    return {
      address: endpoint.address,
      namespace: endpoint.namespace,
      uiUrl: endpoint.uiUrl,
      replacedServerPid: endpoint.replacedPid,
      done,
      async shutdown() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
      },
    };
  } catch (error) {
    await pool.closeAll();
    await connection?.close();
    await endpoint.stop();
    throw error;
  }
}
