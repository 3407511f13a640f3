/**
 * provisionCluster's decisions with fake activities (every host already provisioned unless a test
 * makes a step fail), on the runbook's example inventory: four ESXi hosts, storage VMs on vh1 and
 * vh2, each share mounted on all four. A failing host stops only itself and what needs it.
 * On a dev server (test/helpers/temporal.ts), as the children's search attributes need.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { provisionCluster } from '../../workflows';
import { Failure } from '../../core/failures';
import type { ProvisionClusterResult } from '../../core/provision/shared';
import type { StorageHostRef } from '../../core/hosts';
import type { EsxiHostRef } from '../../core/passthrough/shared';
import { requireInventory } from '../../inventory/load';
import { provisionClusterInput } from '../../inventory/provision';
import { startTestTemporal, workflowBundle, type TestTemporal } from '../helpers/temporal';

// A dev server, not the time-skipping one: the children carry search attributes, which only a
// server with an operator service registers (the time-skipping one leaves such a child unstarted).
let temporal: TestTemporal;
let connection: NativeConnection;
before(async () => {
  temporal = await startTestTemporal('provision-workflow');
  connection = await NativeConnection.connect({ address: temporal.server.address });
});
after(async () => {
  await connection?.close();
  await temporal?.stop();
});
const input = provisionClusterInput(requireInventory(path.join(__dirname, '../../examples/runbook.yaml')));
const found = (what: string) => ({ found: [what], changed: [], warnings: [] });
const none = { changed: [], warnings: [] };

/**
 * Every activity the runbooks call, answering "in place"; `failOn` makes one (activity, host) fail for good;
 * `reverted` hosts have their X1 inactive until they reboot; `mountedNow`: mountNasDatastores mounts anew.
 */
function fakes(failOn?: { activity: string; host: string }, { reverted = [], mountedNow = false }: { reverted?: string[]; mountedNow?: boolean } = {}) {
  const calls: string[] = [];
  const call = (activity: string, host: string) => {
    calls.push(`${activity} ${host}`);
    if (failOn && failOn.activity === activity && failOn.host === host) {
      throw ApplicationFailure.nonRetryable(`${host}: ${activity} refused by the test`, Failure.StorageVmDiffers);
    }
  };
  const device = { id: '0000:0b:00.0', description: 'DDRdrive X1', passthruEnabled: true, passthruActive: true, bootTime: '2026-12-03T00:00:00Z' };
  const rebooted = new Set<string>();
  const activities = {
    async findPassthroughDevice(host: EsxiHostRef) {
      call('findPassthroughDevice', host.name);
      const active = !reverted.includes(host.name) || rebooted.has(host.name);
      return { device: { ...device, passthruActive: active, passthruEnabled: active }, report: found(active ? 'active' : 'not active') };
    },
    async updatePassthruConfig(host: EsxiHostRef) { call('updatePassthruConfig', host.name); return { found: [], changed: ['passthruEnabled'], warnings: [] }; },
    async enterMaintenanceMode(host: EsxiHostRef) { call('enterMaintenanceMode', host.name); return found('in maintenance mode'); },
    async exitMaintenanceMode(host: EsxiHostRef) { call('exitMaintenanceMode', host.name); return found('out of maintenance mode'); },
    async rebootHost(host: EsxiHostRef) { call('rebootHost', host.name); rebooted.add(host.name); return { found: [], changed: ['rebooted'], warnings: [] }; },
    async waitForHostReboot(host: EsxiHostRef) { call('waitForHostReboot', host.name); return { back: true, connectionState: 'connected', bootTime: '2026-12-03T01:00:00Z' }; },
    async configureStorageNetwork(host: EsxiHostRef) { call('configureStorageNetwork', host.name); return found('vSwitch1'); },
    async createStorageVm(host: EsxiHostRef) { call('createStorageVm', host.name); return { vm: { id: 'vm-1', backing: 'dynamic' }, report: found('vm') }; },
    async powerOnStorageVm(host: EsxiHostRef) { call('powerOnStorageVm', host.name); return found('on'); },
    async waitForGuest(host: EsxiHostRef) { call('waitForGuest', host.name); return { ready: true, ipAddresses: ['192.0.2.41'] }; },
    async waitForSsh(ssh: StorageHostRef) { call('waitForSsh', ssh.name); return found('ssh'); },
    async configureBootOrder(host: EsxiHostRef) { call('configureBootOrder', host.name); return found('order'); },
    async checkGuestOs(host: StorageHostRef) { call('checkGuestOs', host.name); return { address: host.address, report: found('os') }; },
    async configureNetwork(host: StorageHostRef) { call('configureNetwork', host.name); return found('net'); },
    async configureNameResolution(host: StorageHostRef) { call('configureNameResolution', host.name); return found('names'); },
    async createPool(host: StorageHostRef) { call('createPool', host.name); return found('pool'); },
    async configureDatasets(host: StorageHostRef) { call('configureDatasets', host.name); return found('datasets'); },
    async shareDatasets(host: StorageHostRef) { call('shareDatasets', host.name); return found('shares'); },
    async mountNasDatastores(host: EsxiHostRef) {
      call('mountNasDatastores', host.name);
      return mountedNow ? { found: [], changed: ['datastore mounted'], warnings: [] } : found('datastore in place');
    },
    async checkNfsExports(host: StorageHostRef) { call('checkNfsExports', host.name); return { answered: true, missing: [], detail: 'every export listed' }; },
    async refreshHostStorage(host: EsxiHostRef) { call('refreshHostStorage', host.name); return { found: [`${host.name}: RefreshStorageSystem`], changed: [], warnings: [] }; },
    async readNasDatastores(host: EsxiHostRef, mounts: { datastore: string; remoteHost: string; remotePath: string }[]) {
      call('readNasDatastores', host.name);
      // Dead on the host that rebooted, back by the refresh elsewhere.
      return mounts.map((m) => ({ datastore: m.datastore, seen: { export: `${m.remoteHost}:${m.remotePath}`, accessible: !reverted.includes(host.name), runningVms: [] } }));
    },
    async remountNasDatastore(host: EsxiHostRef, mount: { datastore: string }) { call('remountNasDatastore', host.name); return { datastore: mount.datastore, state: 'remounted' }; },
    async ensureReplicationUser(host: StorageHostRef) { call('ensureReplicationUser', host.name); return none; },
    async ensureReplicationKey(host: StorageHostRef) { call('ensureReplicationKey', host.name); return { ...none, publicKey: `ssh-ed25519 AAAA ${host.name}` }; },
    async installReceiveGuard(host: StorageHostRef) { call('installReceiveGuard', host.name); return none; },
    async authorizeReplicationKeys(host: StorageHostRef) { call('authorizeReplicationKeys', host.name); return none; },
    async pinReplicationHostKeys(host: StorageHostRef) { call('pinReplicationHostKeys', host.name); return none; },
    async closeStaleConnections(host: StorageHostRef) { call('closeStaleConnections', host.name); return none; },
    async applyReplicationSchedules(jobs: unknown[]) { call('applyReplicationSchedules', String(jobs.length)); return { created: [], updated: [], unchanged: [], deleted: [], changes: {} }; },
  };
  return { calls, activities };
}

let runs = 0;
async function run(activities: object): Promise<ProvisionClusterResult> {
  const taskQueue = `provision-test-${process.pid}-${++runs}`;
  const worker = await Worker.create({ connection, namespace: temporal.server.namespace, workflowBundle: await workflowBundle(), taskQueue, activities });
  return worker.runUntil(temporal.client.workflow.execute(provisionCluster, { args: [input], taskQueue, workflowId: `provision-test-${process.pid}-${runs}` }));
}

test('everything in place: every step done with nothing changed; the shares on all four hosts, vh0 and vh3 included', async () => {
  const f = fakes();
  const result = await run(f.activities);
  assert.deepEqual(result.failures, []);
  assert.deepEqual(result.hosts.map((h) => [h.host, h.steps.map((s) => s.state).join(',')]), [
    ['vh1', 'done,done,done,done,done,skipped'], ['vh2', 'done,done,done,done,done,skipped'],
  ]);
  assert.match(result.hosts[0]!.steps.at(-1)!.reason!, /vh1 did not reboot in this run/);
  assert.deepEqual(result.steps.map((s) => [s.step, s.state, s.changed.length]), [
    ['provisionHosts', 'done', 0], ['registerDatastores', 'done', 0], ['setupReplicationTrust', 'done', 0], ['applyReplicationSchedules', 'done', 0],
  ]);
  for (const h of ['vh0', 'vh1', 'vh2', 'vh3']) assert.ok(f.calls.includes(`mountNasDatastores ${h}`), `mounts on ${h}`);
  // Per host, the runbook's order.
  const order = ['findPassthroughDevice vh1', 'configureStorageNetwork vh1', 'createStorageVm vh1', 'checkGuestOs uss1', 'mountNasDatastores vh1'];
  assert.deepEqual(order.map((c) => f.calls.indexOf(c)), [...order.map((c) => f.calls.indexOf(c))].sort((a, b) => a - b));
  assert.ok(f.calls.includes('applyReplicationSchedules 2'));
});

test('a host that fails stops only itself: the other completes; its shares, trust and schedules are skipped and the run fails naming the step', async () => {
  const f = fakes({ activity: 'createStorageVm', host: 'vh2' });
  const error = await run(f.activities).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, String(error));
  const cause = error.cause as ApplicationFailure;
  assert.equal(cause.type, Failure.ProvisionFailed);
  assert.match(cause.message, /vh2: buildStorageVm: vh2: createStorageVm refused by the test/);
  const result = cause.details![0] as ProvisionClusterResult;
  assert.deepEqual(result.hosts.map((h) => [h.host, h.failed, h.steps.map((s) => s.state).join(',')]), [
    ['vh1', undefined, 'done,done,done,done,done,skipped'],
    ['vh2', 'buildStorageVm', 'done,done,failed,notRun,notRun,notRun'],
  ]);
  assert.ok(!f.calls.includes('checkGuestOs uss2'), 'nothing after the failed step on vh2');
  // uss1's shares still go to vh0, vh1 and vh3, not to the failed vh2; no ring edge has both ends.
  assert.deepEqual(['vh0', 'vh1', 'vh2', 'vh3'].map((h) => f.calls.filter((c) => c === `mountNasDatastores ${h}`).length), [1, 1, 0, 1]);
  assert.deepEqual(result.steps.map((s) => s.state), ['done', 'done', 'skipped', 'skipped']);
  assert.match(result.steps[2]!.reason!, /skipped for vh2: failed/);
  assert.ok(!f.calls.some((c) => c.startsWith('applyReplicationSchedules')));
});

test('a host that rebooted with its VM\'s datastores mounted before: recoverDatastores on every host that mounts them, after registerDatastore', async () => {
  const f = fakes(undefined, { reverted: ['vh1'] });
  const result = await run(f.activities);
  assert.deepEqual(result.failures, []);
  const [vh1, vh2] = result.hosts;
  assert.deepEqual(vh1!.steps.map((s) => s.state), ['done', 'done', 'done', 'done', 'done', 'done']);
  const recovered = vh1!.steps.at(-1)!;
  assert.equal(recovered.workflowId, 'recover-datastores/uss1');
  assert.deepEqual(recovered.changed, ['vh1: datastore uss1-nas-vol0 remounted']);
  assert.deepEqual(recovered.warnings, []);
  assert.deepEqual(f.calls.filter((c) => c.startsWith('refreshHostStorage')).sort(), ['vh0', 'vh1', 'vh2', 'vh3'].map((h) => `refreshHostStorage ${h}`));
  assert.ok(f.calls.indexOf('mountNasDatastores vh1') < f.calls.indexOf('checkNfsExports uss1'), 'after the datastores step');
  assert.ok(f.calls.indexOf('rebootHost vh1') < f.calls.indexOf('mountNasDatastores vh1'));
  assert.equal(vh2!.steps.at(-1)!.state, 'skipped', 'vh2 did not reboot');
  assert.ok(!f.calls.includes('checkNfsExports uss2'));
});

test('a first provisioning: the reboot came before the datastores existed, so nothing is recovered', async () => {
  const f = fakes(undefined, { reverted: ['vh1', 'vh2'], mountedNow: true });
  const result = await run(f.activities);
  assert.deepEqual(result.failures, []);
  for (const h of result.hosts) {
    const last = h.steps.at(-1)!;
    assert.equal(last.state, 'skipped', h.host);
    assert.match(last.reason!, new RegExp(`datastores on ${h.host} were mounted after the reboot`));
  }
  assert.ok(!f.calls.some((c) => c.startsWith('checkNfsExports')));
});
