/** inspectCluster with fake activities: hosts side by side; a host that does not answer is reported in the result, never fails the run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { inspectCluster } from '../../workflows';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { Failure } from '../../core/failures';
import type { EsxiHostState, InspectActivities, InspectClusterInput, StorageVmState } from '../../core/status/shared';

const temporal = timeSkippingEnv();
const vsphere = { url: 'https://vcenter.example/sdk', credential: { user: 'u', passwordEnv: 'P' } };
const ssh = (name: string, address: string) => ({
  name, os: 'illumos' as const, address, hostKey: 'ssh-ed25519 AAAA', credential: { user: 'root', privateKeyFile: '/k' }, storageAddress: address,
});
const input: InspectClusterInput = {
  hosts: [
    { name: 'vh0', esxi: { host: { name: 'vh0', vsphere }, datastores: [] } },
    { name: 'vh1', esxi: { host: { name: 'vh1', vsphere }, storageVm: { name: 'uss1', address: '192.0.2.41' }, datastores: [] }, storageVm: { ssh: ssh('uss1', '192.0.2.41'), pool: 'sp1', datasets: [] } },
    { name: 'vh2', esxi: { host: { name: 'vh2', vsphere }, storageVm: { name: 'uss2', address: '192.0.2.42' }, datastores: [] }, storageVm: { ssh: ssh('uss2', '192.0.2.42'), pool: 'sp2', datasets: [] } },
    { name: 'vh3', storageVm: { ssh: ssh('uss3', '192.0.2.43'), pool: 'sp3', datasets: [] } },
  ],
};

const esxiState = (name: string): EsxiHostState => ({ name, connectionState: 'connected', inMaintenanceMode: false, datastores: [] });
const vmState = (name: string, address: string): StorageVmState => ({ name, address, reachable: true, poolName: 'sp', datasets: [] });

function fake() {
  const calls: string[] = [];
  const activities: InspectActivities = {
    async inspectEsxiHost(expected) {
      calls.push(`esxi ${expected.host.name}`);
      // vh2 does not answer (retryable: tried again, then reported); vh0's login is refused (not retried).
      if (expected.host.name === 'vh2') throw new Error('connect ETIMEDOUT 10.0.0.12:443');
      if (expected.host.name === 'vh0') throw ApplicationFailure.nonRetryable('vSphere https://vcenter.example/sdk: u cannot log in (InvalidLogin)', Failure.VsphereLogin);
      return esxiState(expected.host.name);
    },
    async inspectStorageVm(expected) {
      calls.push(`vm ${expected.ssh.name}`);
      if (expected.ssh.name === 'uss2') return { ...vmState('uss2', '192.0.2.42'), reachable: false, error: 'ssh uss2: cannot connect: ECONNREFUSED' };
      if (expected.ssh.name === 'uss3') throw new Error('zpool: command not found');
      return vmState(expected.ssh.name, expected.ssh.address);
    },
  };
  return { calls, activities };
}

test('every host is read side by side; one that does not answer, a refused login and a failed read are reported in the result', async () => {
  const f = fake();
  const taskQueue = `inspect-test-${process.pid}`;
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection, namespace: temporal.env.namespace ?? 'default', workflowBundle: await workflowBundle(), taskQueue, activities: f.activities,
  });
  const result = await worker.runUntil(temporal.env.client.workflow.execute(inspectCluster, { args: [input], taskQueue, workflowId: `inspect-cluster/test-${process.pid}` }));

  assert.deepEqual(result.hosts.map((h) => h.name), ['vh0', 'vh1', 'vh2', 'vh3']);
  const [vh0, vh1, vh2, vh3] = result.hosts;
  assert.deepEqual(vh0, { name: 'vh0', esxi: { error: 'vSphere https://vcenter.example/sdk: u cannot log in (InvalidLogin)' } });
  assert.deepEqual(vh1, { name: 'vh1', esxi: { state: esxiState('vh1') }, storageVm: { state: vmState('uss1', '192.0.2.41') } });
  assert.deepEqual(vh2!.esxi, { error: 'connect ETIMEDOUT 10.0.0.12:443' });
  assert.deepEqual(vh2!.storageVm, { state: { ...vmState('uss2', '192.0.2.42'), reachable: false, error: 'ssh uss2: cannot connect: ECONNREFUSED' } });
  assert.deepEqual(vh3, { name: 'vh3', storageVm: { error: 'zpool: command not found' } });
  assert.match(result.startedAt, /^\d{4}-\d\d-\d\dT/);

  const count = (call: string) => f.calls.filter((c) => c === call).length;
  assert.equal(count('esxi vh2'), 2, 'a host that does not answer is tried twice, no more');
  assert.equal(count('esxi vh0'), 1, 'a refused login is not retried');
  assert.equal(count('vm uss3'), 2);
  assert.equal(count('esxi vh1') + count('vm uss1') + count('vm uss2'), 3);
});
