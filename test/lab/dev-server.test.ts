/**
 * The embedded Temporal CLI dev server, for real: search attributes, Web UI, clean stop,
 * SQLite persistence across restarts, refusing a port that already serves Temporal,
 * ensureSearchAttributes on a namespace that lacks them, and connectOrStart with
 * TEMPORAL_ADDRESS. Needs .venv populated (`bash scripts/install-toolchain.sh`) or
 * TEMPORAL_CLI_PATH.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
import { portFree, startOnFreePorts } from '../helpers/temporal';

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
