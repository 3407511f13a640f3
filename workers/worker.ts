/** The worker process: connects to (or starts) Temporal and runs every workflow and activity. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { sshTransport } from '../activities/transport';
import { SshPool } from '../activities/ssh';
import { vsphereSessions } from '../activities/vsphere/sessions';
import { stepLog } from '../activities/context';
import { stepDurationInterceptor } from './step-metrics';
import { connectOrStart, type DevServerOptions } from './dev-server';
import { MAX_HEARTBEAT_THROTTLE, TASK_QUEUE } from './config';
import { codecDataConverter, loadCodecKeys } from './codec/keys';
import { PACKAGE_ROOT, RUNNING_FROM_SOURCE } from './package-root';
import { cachedBundle } from './bundle-cache';

const execFileAsync = promisify(execFile);

/** Where `npm run build` puts the workflows, bundled: the packed package runs it, no webpack at start. */
const PREBUILT_BUNDLE = path.join(PACKAGE_ROOT, 'dist', 'workflow-bundle.js');

/**
 * The workflow bundle: the prebuilt one when running the compiled package; from the sources (a
 * checkout: never a stale dist), made by a child process so that webpack never loads into the
 * worker, once per version of the sources (bundle-cache.ts).
 */
export async function workflowBundle(): Promise<string> {
  if (!RUNNING_FROM_SOURCE && existsSync(PREBUILT_BUNDLE)) return PREBUILT_BUNDLE;
  const script = path.join(__dirname, `bundle-workflows${path.extname(__filename)}`);
  return cachedBundle(PACKAGE_ROOT, async (out) => {
    await execFileAsync(process.execPath, [...(RUNNING_FROM_SOURCE ? ['--import', 'tsx'] : []), script, out], { cwd: PACKAGE_ROOT });
  });
}

export interface RunningWorker {
  address: string;
  namespace: string;
  uiUrl?: string;
  /** The key id payloads are encrypted under; absent: the payload codec is off. */
  codecKeyId?: string;
  /** The pid of the embedded server a killed worker left running, stopped before ours started. */
  replacedServerPid?: number;
  /** Resolves when the worker has stopped (after `shutdown`, or on a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(opts: { taskQueue?: string; devServer?: DevServerOptions } = {}): Promise<RunningWorker> {
  // Before the server starts: bad keys stop the worker with nothing to clean up.
  const codecKeys = loadCodecKeys();
  const dataConverter = codecDataConverter(codecKeys);
  const endpoint = await connectOrStart(opts.devServer);
  const pool = new SshPool();
  // vSphere's warnings (plain HTTP, no TLS check) go to the worker's log on every connect, with
  // the ids of the step that connected.
  const sessions = vsphereSessions({ warn: (message) => (stepLog() ?? Runtime.instance().logger).warn(`vSphere: ${message}`) });
  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect({ address: endpoint.address, ...endpoint.security });
    const worker = await Worker.create({
      connection,
      namespace: endpoint.namespace,
      taskQueue: opts.taskQueue ?? TASK_QUEUE,
      dataConverter,
      workflowBundle: { codePath: await workflowBundle() },
      activities: createActivities({ transport: sshTransport(pool), sessions, temporal: new Client({ connection, namespace: endpoint.namespace, dataConverter }) }),
      maxHeartbeatThrottleInterval: MAX_HEARTBEAT_THROTTLE,
      interceptors: { activity: [stepDurationInterceptor] },
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
      codecKeyId: codecKeys?.encryptWith,
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
