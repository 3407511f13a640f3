/** registerDatastore's decisions with fake activities: hosts side by side; a failing host does not stop the others, and fails the run with every host's outcome. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { registerDatastore } from '../../workflows';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { Failure } from '../../core/failures';
import type { DatastoreActivities, RegisterDatastoreInput } from '../../core/datastore/shared';

const temporal = timeSkippingEnv();
const vsphere = { url: 'https://vcenter.example/sdk', credential: { user: 'u', passwordEnv: 'P' } };
const network = { vswitch: 'vSwitch1', portGroup: 'eSAN', vmkernel: { name: 'eSAN-Interface1', address: '10.0.1.10/24' } };
const mount = { datastore: 'uss1-nas-vol0', remoteHost: '10.0.1.41', remotePath: '/export/uss1-nas-vol0', nfsVersion: '3' as const, accessMode: 'readWrite' as const };
const input: RegisterDatastoreInput = {
  vm: 'uss1',
  hosts: ['vh0', 'vh1', 'vh2'].map((name) => ({ host: { name, vsphere }, storageNetwork: network, mounts: [mount] })),
};

function fake(failOn?: string) {
  const calls: string[] = [];
  const activities: DatastoreActivities = {
    async configureStorageNetwork(host) {
      calls.push(`network ${host.name}`);
      if (host.name === failOn) throw ApplicationFailure.nonRetryable(`${host.name}: port group eSAN is on vSwitch0`, Failure.DatastoreConflict);
      return { found: [], changed: ['vmk1'], warnings: [] };
    },
    async mountNasDatastores(host, mounts) {
      calls.push(`mount ${host.name} ${mounts.map((m) => m.datastore).join(',')}`);
      return { found: [], changed: mounts.map((m) => `datastore ${m.datastore} mounted`), warnings: [] };
    },
  };
  return { calls, activities };
}

let runs = 0;
async function run(activities: DatastoreActivities) {
  const taskQueue = `datastore-test-${process.pid}-${++runs}`;
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection, namespace: temporal.env.namespace ?? 'default', workflowBundle: await workflowBundle(), taskQueue, activities,
  });
  return worker.runUntil(temporal.env.client.workflow.execute(registerDatastore, { args: [input], taskQueue, workflowId: `datastore-test-${process.pid}-${runs}` }));
}

test('every host: its storage network, then its mounts; each host\'s steps in the result', async () => {
  const f = fake();
  const result = await run(f.activities);
  assert.deepEqual([...f.calls].sort(), ['mount vh0 uss1-nas-vol0', 'mount vh1 uss1-nas-vol0', 'mount vh2 uss1-nas-vol0', 'network vh0', 'network vh1', 'network vh2']);
  for (const h of ['vh0', 'vh1', 'vh2']) assert.ok(f.calls.indexOf(`network ${h}`) < f.calls.indexOf(`mount ${h} uss1-nas-vol0`));
  assert.deepEqual(result.hosts.map((h) => [h.host, h.steps.map((s) => s.step), h.failed]), [
    ['vh0', ['configureStorageNetwork', 'mountNasDatastores'], undefined],
    ['vh1', ['configureStorageNetwork', 'mountNasDatastores'], undefined],
    ['vh2', ['configureStorageNetwork', 'mountNasDatastores'], undefined],
  ]);
});

test('a host that fails does not stop the others; the run fails naming it, with every host\'s outcome', async () => {
  const f = fake('vh1');
  await assert.rejects(run(f.activities), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as ApplicationFailure;
    assert.equal(cause.type, Failure.DatastoreHostsFailed);
    assert.match(cause.message, /uss1: 1 of 3 host\(s\) failed: vh1: port group eSAN is on vSwitch0$/);
    const [details] = cause.details as [{ hosts: { host: string; failed?: string }[] }];
    assert.deepEqual(details.hosts.map((h) => [h.host, h.failed !== undefined]), [['vh0', false], ['vh1', true], ['vh2', false]]);
    return true;
  });
  assert.ok(f.calls.includes('mount vh0 uss1-nas-vol0') && f.calls.includes('mount vh2 uss1-nas-vol0'));
  assert.ok(!f.calls.includes('mount vh1 uss1-nas-vol0'));
});
