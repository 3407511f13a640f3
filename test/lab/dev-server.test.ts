/**
 * The embedded Temporal CLI dev server, for real: search attributes, Web UI, clean stop,
 * SQLite persistence across restarts, refusing a port that already serves Temporal,
 * ensureSearchAttributes on a namespace that lacks them, and connectOrStart with
 * TEMPORAL_ADDRESS; and `esxi-zfs worker` SIGKILLed then started again. Needs .venv populated (`bash scripts/install-toolchain.sh`) or
 * TEMPORAL_CLI_PATH.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { SearchAttribute } from '../../core/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import {
  SEARCH_ATTRIBUTES,
  connectOrStart,
  ensureSearchAttributes,
  startDevServer,
  type DevServer,
} from '../../workers/dev-server';
import { freePorts, portFree, startOnFreePorts } from '../helpers/temporal';

const CLI = path.join(__dirname, '../../bin/esxi-zfs.js');

const HOST = SearchAttribute.host;
const RUNBOOK = SearchAttribute.runbook;
const EXTRA_NAMESPACE = 'esxi-zfs-external';

const portOf = (addressOrUrl: string) => Number(addressOrUrl.split(':').pop());

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function withClient<T>(address: string, fn: (client: Client, connection: Connection) => Promise<T>) {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection, namespace: 'default' }), connection);
  } finally {
    await connection.close();
  }
}

async function customAttributes(connection: Connection, namespace: string) {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  return res.customAttributes ?? {};
}

describe('embedded Temporal dev server', () => {
  let dir: string;
  let dbFile: string;
  let server: DevServer | undefined;
  const workflowId = `persist-${process.pid}-${Date.now()}`;
  let runId: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'dev-server-test-'));
    dbFile = path.join(dir, 'data', 'temporal.sqlite');
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('starts on non-default ports with SQLite, search attributes and UI', async () => {
    const t0 = Date.now();
    server = await startOnFreePorts(dbFile);
    console.log(`dev server started in ${Date.now() - t0} ms (fresh db), pid ${server.pid}`);
    assert.match(server.address, /^127\.0\.0\.1:17\d{3}$/);
    const port = portOf(server.address);
    assert.equal(server.uiUrl, `http://127.0.0.1:${port + 1000}`);
    assert.equal(server.namespace, 'default');
    assert.ok(existsSync(dbFile), 'sqlite file created (folder made)');
    assert.ok(existsSync(server.logFile), 'log file created');

    await withClient(server.address, async (client, connection) => {
      const custom = await customAttributes(connection, 'default');
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) {
        assert.ok(name in custom, `search attribute ${name} registered: ${JSON.stringify(custom)}`);
      }
      // Nothing to add: ensureSearchAttributes is a no-op here.
      assert.deepEqual(await ensureSearchAttributes(connection, 'default'), []);

      const handle = await client.workflow.start('persistenceProbe', {
        taskQueue: `no-worker-${process.pid}`,
        workflowId,
        args: [],
        typedSearchAttributes: [
          { key: HOST, value: 'vh1' },
          { key: RUNBOOK, value: 'probe' },
        ],
      });
      runId = handle.firstExecutionRunId;

      // A namespace made through the API has none of the attributes: ensure adds them, once.
      await connection.workflowService.registerNamespace({
        namespace: EXTRA_NAMESPACE,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
      let added: string[] | undefined;
      for (let i = 0; added === undefined; i++) {
        try {
          added = await ensureSearchAttributes(connection, EXTRA_NAMESPACE);
        } catch (err) {
          // The new namespace reaches the frontend's cache within moments.
          if (i > 50) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      assert.deepEqual(added.sort(), ['dataset', 'host', 'hosts', 'runbook']);
      assert.deepEqual(await ensureSearchAttributes(connection, EXTRA_NAMESPACE), []);
      const extra = await customAttributes(connection, EXTRA_NAMESPACE);
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) assert.ok(name in extra, `${name} in ${EXTRA_NAMESPACE}`);
    });

    const res = await fetch(server.uiUrl);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<html/i);
  });

  test('refuses to start a second server on a port that already serves Temporal', async () => {
    assert.ok(server);
    await assert.rejects(
      startDevServer({ dbFile: path.join(dir, 'other.sqlite'), port: portOf(server.address), uiPort: 19999 }),
      (err: Error) => {
        assert.ok(!err.message.includes('\n'), err.message);
        assert.match(err.message, /already running at 127\.0\.0\.1:\d+/);
        assert.match(err.message, /TEMPORAL_ADDRESS=127\.0\.0\.1:\d+/);
        return true;
      },
    );
  });

  test('connectOrStart uses TEMPORAL_ADDRESS when set', async () => {
    assert.ok(server);
    const saved = { ...process.env };
    try {
      process.env.TEMPORAL_ADDRESS = server.address;
      process.env.TEMPORAL_NAMESPACE = EXTRA_NAMESPACE;
      process.env.TEMPORAL_UI_URL = server.uiUrl;
      const endpoint = await connectOrStart();
      assert.equal(endpoint.address, server.address);
      assert.equal(endpoint.namespace, EXTRA_NAMESPACE);
      assert.equal(endpoint.uiUrl, server.uiUrl);
      await endpoint.stop(); // no-op: must not stop the server we did not start
      delete process.env.TEMPORAL_UI_URL;
      delete process.env.TEMPORAL_NAMESPACE;
      const other = await connectOrStart();
      assert.equal(other.namespace, 'default');
      assert.equal(other.uiUrl, undefined);
      await other.stop();
      assert.ok(pidAlive(server.pid), 'external server still running');
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  test('stop() ends the process and frees the ports', async () => {
    assert.ok(server);
    const { pid } = server;
    const t0 = Date.now();
    await server.stop();
    console.log(`dev server stopped in ${Date.now() - t0} ms`);
    await server.stop(); // idempotent
    assert.equal(pidAlive(pid), false, `pid ${pid} gone`);
    assert.ok(await portFree(portOf(server.address)), 'gRPC port free');
    assert.ok(await portFree(portOf(server.uiUrl)), 'UI port free');
    server = undefined;
  });

  test('restart on the same db file: workflow, namespace and attributes persist', async () => {
    const t0 = Date.now();
    server = await startOnFreePorts(dbFile); // same db file; ports may differ if taken meanwhile
    console.log(`dev server restarted in ${Date.now() - t0} ms (existing db)`);
    await withClient(server.address, async (client, connection) => {
      const desc = await client.workflow.getHandle(workflowId).describe();
      assert.equal(desc.runId, runId);
      assert.equal(desc.status.name, 'RUNNING');
      assert.equal(desc.typedSearchAttributes.get(HOST), 'vh1');
      assert.equal(desc.typedSearchAttributes.get(RUNBOOK), 'probe');
      const extra = await customAttributes(connection, EXTRA_NAMESPACE);
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) assert.ok(name in extra, `${name} kept in ${EXTRA_NAMESPACE}`);
      await client.workflow.getHandle(workflowId).terminate('test done');
    });
    const { pid } = server;
    await server.stop();
    assert.equal(pidAlive(pid), false);
    server = undefined;
  });
});

/** Alive and not a zombie: a stopped orphan waits for whoever adopted it to reap it. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** Pids of every `temporal server start-dev` on this db file. */
function serversOn(dbFile: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.includes('start-dev') && argv[argv.indexOf('--db-filename') + 1] === dbFile;
    } catch {
      return false;
    }
  });
}

/** `esxi-zfs worker` in a child process; resolves once it says it runs, rejects when it exits first. */
function startWorkerProcess(args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  const env = { ...process.env };
  delete env.TEMPORAL_ADDRESS;
  const child = spawn(CLI, ['worker', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/^worker running/m.test(output)) resolve({ child, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it ran:\n${output}`)));
  });
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));

describe('worker SIGKILLed, then started again', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'worker-restart-test-'));
  const dbFile = path.join(dir, 'temporal.sqlite');
  const children: ChildProcess[] = [];

  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of serversOn(dbFile)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('the new worker stops the server the killed one left and starts; a clean stop leaves no server', async () => {
    const { port, uiPort } = await freePorts();
    const args = ['--data-dir', dir, '--port', String(port), '--ui-port', String(uiPort), '--task-queue', `restart-${process.pid}`];
    const first = await startWorkerProcess(args);
    children.push(first.child);
    const [orphan] = serversOn(dbFile);
    assert.ok(orphan, `the first worker started a dev server on ${dbFile}`);
    first.child.kill('SIGKILL');
    await exited(first.child);
    assert.ok(running(orphan), 'precondition: a SIGKILLed worker cannot stop its server');

    const second = await startWorkerProcess(args);
    children.push(second.child);
    assert.match(second.output(), new RegExp(`stopped the embedded Temporal server \\(pid ${orphan}\\)`));
    assert.equal(running(orphan), false, `the orphan ${orphan} is gone`);
    assert.equal(serversOn(dbFile).length, 1, 'one server: the new worker\'s');

    second.child.kill('SIGTERM');
    await exited(second.child);
    assert.equal(second.child.exitCode, 0, second.output());
    assert.deepEqual(serversOn(dbFile), [], 'a clean stop leaves no server');
    assert.ok(!existsSync(path.join(dir, 'temporal.pid')), 'and no pid file');
  });
});
