/**
 * configureStorage's order and decisions with fake activities on the time-skipping server: the
 * runbook's steps in order (the name files beside the pool and its datasets), each step's report in
 * the result; the VM reached where it answers until the last step, which moves the management
 * address only when it answers elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { configureStorage } from '../../workflows';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { requireInventory } from '../../inventory/load';
import { configureStorageInput } from '../../inventory/configure';
import type { ConfigureStorageInput, ConfigureStorageResult, StepReport } from '../../core/configure/shared';
import type { StorageHostRef } from '../../core/hosts';
import { Failure } from '../../core/failures';

const input: ConfigureStorageInput = configureStorageInput(requireInventory(path.join(__dirname, '../../examples/runbook.yaml')), 'uss1');
const temporal = timeSkippingEnv();
const report = (what: string): StepReport => ({ found: [`${what} read`], changed: [`${what} changed`], warnings: [] });

function fakeActivities(answersAt: string, fail?: string) {
  const calls: { step: string; address: string }[] = [];
  const called = (step: string, host: StorageHostRef) => {
    calls.push({ step, address: host.address });
    if (step === fail) throw ApplicationFailure.nonRetryable(`${step} failed`, Failure.DiskSelection);
    return report(step);
  };
  return {
    calls,
    activities: {
      async checkGuestOs(host: StorageHostRef, reachAt?: string) {
        calls.push({ step: 'checkGuestOs', address: reachAt ?? host.address });
        return { address: answersAt, report: report('checkGuestOs') };
      },
      async configureNetwork(host: StorageHostRef) { return called('configureNetwork', host); },
      async configureNameResolution(host: StorageHostRef) { return called('configureNameResolution', host); },
      async createPool(host: StorageHostRef) { return called('createPool', host); },
      async configureDatasets(host: StorageHostRef) { return called('configureDatasets', host); },
      async shareDatasets(host: StorageHostRef) { return called('shareDatasets', host); },
      async switchManagementAddress(host: StorageHostRef) { return called('switchManagementAddress', host); },
    },
  };
}

let runs = 0;
async function run(activities: object, args: ConfigureStorageInput): Promise<ConfigureStorageResult> {
  const taskQueue = `configure-test-${process.pid}-${++runs}`;
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection,
    namespace: temporal.env.namespace ?? 'default',
    workflowBundle: await workflowBundle(),
    taskQueue,
    activities,
  });
  return worker.runUntil(temporal.env.client.workflow.execute(configureStorage, { args: [args], taskQueue, workflowId: `configure-test-${process.pid}-${runs}` }));
}

const RUNBOOK_ORDER = ['checkGuestOs', 'configureNetwork', 'configureNameResolution', 'createPool', 'configureDatasets', 'shareDatasets', 'switchManagementAddress'];

/** The order steps must start in: each after the ones it needs (the name files and the disks need only the network). */
const NEEDS: Record<string, string[]> = {
  configureNetwork: ['checkGuestOs'],
  configureNameResolution: ['configureNetwork'],
  createPool: ['configureNetwork'],
  configureDatasets: ['createPool'],
  shareDatasets: ['configureNameResolution', 'configureDatasets'],
  switchManagementAddress: ['shareDatasets'],
};

/** The workflow failed with the activity's own failure (WorkflowFailedError → ActivityFailure → ApplicationFailure). */
const failedWith = (message: string) => (error: unknown) =>
  error instanceof WorkflowFailedError && (error.cause?.cause as Error | undefined)?.message === message;

function assertStartedInOrder(calls: { step: string }[], expected: string[]): void {
  const steps = calls.map((c) => c.step);
  assert.deepEqual([...steps].sort(), [...expected].sort());
  for (const [i, name] of steps.entries()) {
    for (const before of NEEDS[name] ?? []) assert.ok(steps.indexOf(before) >= 0 && steps.indexOf(before) < i, `${name} started before ${before}: ${steps.join(', ')}`);
  }
}

test('at its management address: every step in the runbook\'s order, each report in the result; nothing to move', async () => {
  const fake = fakeActivities(input.host.address);
  const result = await run(fake.activities, input);
  assertStartedInOrder(fake.calls, RUNBOOK_ORDER.slice(0, -1));
  assert.ok(fake.calls.every((c) => c.address === input.host.address));
  assert.equal(result.host, 'uss1');
  assert.deepEqual(result.steps.map((s) => s.step), RUNBOOK_ORDER);
  assert.deepEqual(result.steps.slice(0, -1).map((s) => s.report), RUNBOOK_ORDER.slice(0, -1).map(report));
  assert.deepEqual(result.steps.at(-1)!.report, { found: [`the VM answers at its management address ${input.host.address}`], changed: [], warnings: [] });
});

test('reached at --reach-at: every step there, then the management address moved last', async () => {
  const fake = fakeActivities('192.0.2.200');
  const result = await run(fake.activities, { ...input, reachAt: '192.0.2.200' });
  assertStartedInOrder(fake.calls, RUNBOOK_ORDER);
  assert.equal(fake.calls.at(-1)!.step, 'switchManagementAddress');
  assert.deepEqual(fake.calls.map((c) => c.address), RUNBOOK_ORDER.map(() => '192.0.2.200'));
  assert.deepEqual(result.steps.at(-1), { step: 'switchManagementAddress', report: report('switchManagementAddress') });
});

test('the name files and the pool run side by side: the name step waits for the pool step to start, and both finish', async () => {
  const fake = fakeActivities(input.host.address);
  let poolStarted!: () => void;
  const started = new Promise<void>((resolve) => { poolStarted = resolve; });
  const activities = {
    ...fake.activities,
    async createPool(host: StorageHostRef) { poolStarted(); return fake.activities.createPool(host); },
    async configureNameResolution(host: StorageHostRef) {
      // Run one after the other, this would wait for good: the bound makes that a failure.
      await Promise.race([started, new Promise((_, reject) => setTimeout(() => reject(new Error('createPool never started beside configureNameResolution')), 10_000))]);
      return fake.activities.configureNameResolution(host);
    },
  };
  const result = await run(activities, input);
  assert.deepEqual(result.steps.map((s) => s.step), RUNBOOK_ORDER);
});

test('a step that fails for good stops the run: its side branch finishes, nothing after them is done', async () => {
  const pool = fakeActivities(input.host.address, 'createPool');
  await assert.rejects(run(pool.activities, input), failedWith('createPool failed'));
  assertStartedInOrder(pool.calls, ['checkGuestOs', 'configureNetwork', 'configureNameResolution', 'createPool']);

  const names = fakeActivities(input.host.address, 'configureNameResolution');
  await assert.rejects(run(names.activities, input), failedWith('configureNameResolution failed'));
  assertStartedInOrder(names.calls, ['checkGuestOs', 'configureNetwork', 'configureNameResolution', 'createPool', 'configureDatasets']);

  const network = fakeActivities(input.host.address, 'configureNetwork');
  await assert.rejects(run(network.activities, input), WorkflowFailedError);
  assertStartedInOrder(network.calls, ['checkGuestOs', 'configureNetwork']);
});
