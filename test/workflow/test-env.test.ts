/**
 * createTestEnv() runs the time-skipping test server from .venv (or TEMPORAL_TEST_SERVER_PATH /
 * PATH) and time skipping works: a workflow sleeping a day completes in moments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { resolveTestServer } from '../../workers/temporal-binaries';
import { timeSkippingEnv } from '../helpers/temporal';
import { trivialWorkflow } from './fixtures/trivial-workflow';

const temporal = timeSkippingEnv();

test('a local test server binary is resolved (no download needed)', () => {
  const testServer = resolveTestServer();
  assert.ok(testServer, 'run `bash scripts/install-toolchain.sh` or set TEMPORAL_TEST_SERVER_PATH');
  assert.equal(temporal.env.supportsTimeSkipping, true);
});

test('env.sleep skips time', async () => {
  const before = await temporal.env.currentTimeMs();
  const wallStart = Date.now();
  await temporal.env.sleep('1 hour');
  const skipped = (await temporal.env.currentTimeMs()) - before;
  assert.ok(skipped >= 3_600_000, `server time advanced ${skipped} ms`);
  assert.ok(Date.now() - wallStart < 10_000, 'took real time');
});

test('a trivial workflow sleeping a day completes', async () => {
  const taskQueue = `trivial-${process.pid}-${Date.now()}`;
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection,
    namespace: temporal.env.namespace ?? 'default',
    workflowsPath: require.resolve('./fixtures/trivial-workflow'),
    taskQueue,
  });
  const wallStart = Date.now();
  const result = await worker.runUntil(
    temporal.env.client.workflow.execute(trivialWorkflow, {
      args: ['esxi-zfs'],
      taskQueue,
      workflowId: `trivial-${Date.now()}`,
    }),
  );
  assert.equal(result, `hello esxi-zfs from ${taskQueue}`);
  assert.ok(Date.now() - wallStart < 60_000);
});
