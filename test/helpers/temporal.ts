/**
 * Real Temporal for lab tests: a dev server on free ports with its own SQLite file, a client, and
 * a worker running the product's workflows and activities (with an SSH pool the test can inspect).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundlePath } from '@temporalio/worker';
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DataConverter } from '@temporalio/common';
import { startDevServer, type DevServer } from '../../workers/dev-server';
import { createTestEnv } from './test-env';
import { createActivities } from '../../activities';
import { sshTransport, type Transport } from '../../activities/transport';
import { SshPool } from '../../activities/ssh';
import { vsphereSessions } from '../../activities/vsphere/sessions';
import { MAX_HEARTBEAT_THROTTLE, TASK_QUEUE } from '../../workers/config';
import { workflowBundle as productBundle } from '../../workers/worker';

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A gRPC port and its UI port (+1000), both free, in 17233..17732; the scan starts at an offset
 * from our pid so concurrent runs rarely pick the same pair.
 */
export async function freePorts(skip = new Set<number>()): Promise<{ port: number; uiPort: number }> {
  const span = 500;
  const offset = process.pid % span;
  for (let i = 0; i < span; i++) {
    const port = 17233 + ((offset + i) % span);
    if (skip.has(port)) continue;
    if ((await portFree(port)) && (await portFree(port + 1000))) return { port, uiPort: port + 1000 };
  }
  throw new Error('no free port pair in 17233..17732');
}

/** startDevServer on a free port pair, moving on when a concurrent run took the pair first. */
export async function startOnFreePorts(dbFile: string): Promise<DevServer> {
  const tried = new Set<number>();
  for (;;) {
    const ports = await freePorts(tried);
    tried.add(ports.port);
    try {
      return await startDevServer({ dbFile, ...ports });
    } catch (err) {
      const lostRace = /already (running|in use)|address already in use/.test((err as Error).message);
      if (!lostRace || tried.size >= 5) throw err;
    }
  }
}

let bundle: Promise<WorkflowBundlePath> | undefined;
let runtimeInstalled = false;

/** The product's workflows, bundled as the worker bundles them (once per version of the sources, kept in .data). */
export function workflowBundle(): Promise<WorkflowBundlePath> {
  bundle ??= productBundle().then((codePath) => ({ codePath }));
  return bundle;
}

export interface TestTemporal {
  server: DevServer;
  client: Client;
  taskQueue: string;
  pool: SshPool;
  /** The product's transport over `pool`. */
  transport: Transport;
  /** Runs `fn` while a worker with every workflow and activity polls `taskQueue`. */
  withWorker<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Stops the dev server and starts it again on the same SQLite file and ports (clients reconnect).
   * `kill`: SIGKILL by pid (a crash: no clean shutdown) instead of SIGTERM.
   */
  restartServer(opts?: { kill?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

function installRuntimeOnce(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

/** The time-skipping test server for the calling test file: started before its tests, torn down after. */
export function timeSkippingEnv(): { readonly env: TestWorkflowEnvironment } {
  let env: TestWorkflowEnvironment | undefined;
  before(async () => {
    installRuntimeOnce();
    env = await createTestEnv();
  });
  after(async () => {
    await env?.teardown();
  });
  return {
    get env() {
      if (!env) throw new Error('the time-skipping test server is not started (used outside a test?)');
      return env;
    },
  };
}

/** `dataConverter` (the payload codec, say) is the client's and the worker's. */
export async function startTestTemporal(name: string, opts: { dataConverter?: DataConverter } = {}): Promise<TestTemporal> {
  installRuntimeOnce();
  const dir = mkdtempSync(path.join(tmpdir(), `esxi-zfs-${name}-`));
  let server = await startOnFreePorts(path.join(dir, 'temporal.sqlite'));
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace, dataConverter: opts.dataConverter });
  const pool = new SshPool();
  const transport = sshTransport(pool);
  const sessions = vsphereSessions();
  const taskQueue = TASK_QUEUE; // what the product's starters use; the server is this test's own
  let worker: Worker | undefined;
  let nativeConnection: NativeConnection | undefined;
  return {
    get server() {
      return server;
    },
    client,
    taskQueue,
    pool,
    transport,
    async withWorker<T>(fn: () => Promise<T>): Promise<T> {
      nativeConnection ??= await NativeConnection.connect({ address: server.address });
      worker = await Worker.create({
        connection: nativeConnection,
        namespace: server.namespace,
        taskQueue,
        dataConverter: opts.dataConverter,
        workflowBundle: await workflowBundle(),
        activities: createActivities({ transport, sessions, temporal: client }),
        maxHeartbeatThrottleInterval: MAX_HEARTBEAT_THROTTLE,
      });
      return worker.runUntil(fn);
    },
    async restartServer({ kill = false } = {}) {
      const { dbFile, address, uiUrl } = server;
      if (kill) process.kill(server.pid, 'SIGKILL');
      await server.stop(); // after a SIGKILL: waits for the exit and removes the pid file
      server = await startDevServer({ dbFile, port: Number(address.split(':').at(-1)), uiPort: Number(new URL(uiUrl).port) });
    },
    async stop() {
      await pool.closeAll();
      await sessions.closeAll();
      await nativeConnection?.close();
      await connection.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
