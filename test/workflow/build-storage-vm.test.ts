/**
 * buildStorageVm's decisions with fake activities on the time-skipping server: the steps in the
 * runbook's order; passthrough not active (a failure that says to run passthrough first, nothing
 * built); a VM that differs (reported, nothing powered on); the guest wait across timers and SSH
 * retried until it answers; a guest that never shows its address (GuestNotReady); a second run
 * that finds everything done.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { buildStorageVm } from '../../workflows';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { Failure } from '../../core/failures';
import type { StepReport } from '../../core/configure/shared';
import type { EsxiHostRef, PassthroughActivities } from '../../core/passthrough/shared';
import type { BuildStorageVmInput, GuestState, StorageVmActivities } from '../../core/storage-vm/shared';

const temporal = timeSkippingEnv();
const host: EsxiHostRef = { name: 'vh1', vsphere: { url: 'https://vcenter.example/sdk', credential: { user: 'administrator@vsphere.local', passwordEnv: 'VSPHERE_PASSWORD' } } };
const input: BuildStorageVmInput = {
  host,
  device: { vendorId: '0x19e3', classId: '0x0100' },
  vm: {
    name: 'uss1', guestId: 'solaris11_64Guest', cpus: 2, memoryMB: 4096, nics: [{ portGroup: 'VM Network' }, { portGroup: 'eSAN' }],
    nicType: 'e1000', scsiController: 'lsilogicsas', bootDisk: { sizeGiB: 16 },
  },
  ssh: { name: 'uss1', os: 'illumos', address: '192.0.2.41', hostKey: 'ssh-ed25519 AAAA', credential: { user: 'root', privateKeyFile: '/k' }, storageAddress: '10.0.1.41' },
  guestTimeoutMs: 10 * 60_000,
  bootOrder: { datastores: ['uss1-nas-vol0'] },
};
const done = (what: string): StepReport => ({ found: [what], changed: [], warnings: [] });
const changed = (what: string): StepReport => ({ found: [], changed: [what], warnings: [] });

type All = StorageVmActivities & Pick<PassthroughActivities, 'findPassthroughDevice'>;

/** A host and its VM: `exists` the VM was built already, `differs` it is not the inventory's; the guest shows its address after `guestAfter` waits, SSH after `sshAfter` tries. */
function fakeHost(opts: { active?: boolean; exists?: boolean; differs?: boolean; on?: boolean; guestAfter?: number; sshAfter?: number; never?: boolean; ordered?: boolean }) {
  const calls: string[] = [];
  let on = opts.on ?? false;
  let guestLeft = opts.guestAfter ?? 0;
  let sshLeft = opts.sshAfter ?? 0;
  let ordered = opts.ordered ?? false;
  const activities: All = {
    async findPassthroughDevice() {
      calls.push('findPassthroughDevice');
      const active = opts.active ?? true;
      return { device: { id: '0000:0b:00.0', description: 'DDRdrive X1', passthruEnabled: active, passthruActive: active, bootTime: 'b' }, report: done('found') };
    },
    async createStorageVm(_host, vm, deviceId) {
      calls.push('createStorageVm');
      assert.equal(deviceId, '0000:0b:00.0');
      assert.equal(vm.name, 'uss1');
      if (opts.differs) throw ApplicationFailure.nonRetryable('uss1 exists (vm-9) and is not the inventory\'s: 4 CPUs, the inventory says 2', Failure.StorageVmDiffers);
      return { vm: { id: 'vm-9', backing: 'dynamic' }, report: opts.exists ? done('uss1 exists') : changed('uss1 created') };
    },
    async powerOnStorageVm() {
      calls.push('powerOnStorageVm');
      if (on) return done('on');
      on = true;
      return changed('powered on');
    },
    async waitForGuest(_host, wait): Promise<GuestState> {
      calls.push('waitForGuest');
      assert.equal(wait.address, '192.0.2.41');
      assert.ok(wait.maxWaitSeconds >= 1 && wait.maxWaitSeconds <= 60);
      if (opts.never || guestLeft-- > 0) return { ready: false, ipAddresses: [], toolsRunningStatus: 'guestToolsNotRunning' };
      return { ready: true, ipAddresses: ['192.0.2.41', '10.0.1.41'] };
    },
    async waitForSsh() {
      calls.push('waitForSsh');
      if (sshLeft-- > 0) throw new Error('connect ECONNREFUSED 192.0.2.41:22');
      return done('answers');
    },
    async configureBootOrder(_host, order) {
      calls.push('configureBootOrder');
      assert.deepEqual(order, { vmName: 'uss1', datastores: ['uss1-nas-vol0'] });
      if (ordered) return done('ordered');
      ordered = true;
      return changed('storage VM first');
    },
  };
  return { calls, activities };
}

let runs = 0;
async function run(activities: All, args = input) {
  const taskQueue = `storage-vm-test-${process.pid}-${++runs}`;
  const w = await Worker.create({
    connection: temporal.env.nativeConnection, namespace: temporal.env.namespace ?? 'default', workflowBundle: await workflowBundle(), taskQueue, activities,
  });
  return w.runUntil(temporal.env.client.workflow.execute(buildStorageVm, { args: [args], taskQueue, workflowId: `storage-vm-test-${process.pid}-${runs}` }));
}

const failureOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, String(error));
  // Thrown by the workflow itself, or by an activity (an ActivityFailure around it).
  const cause = error.cause as { type?: string; message?: string; cause?: unknown };
  return (cause.type === undefined ? cause.cause : cause) as { type?: string; message?: string };
};

test('a fresh host: the device found active, the VM created, powered on, the guest and SSH waited for, boot order set', async () => {
  const fake = fakeHost({ guestAfter: 2, sshAfter: 2 });
  const result = await run(fake.activities);
  assert.deepEqual(fake.calls, [
    'findPassthroughDevice', 'createStorageVm', 'powerOnStorageVm', 'waitForGuest', 'waitForGuest', 'waitForGuest',
    'waitForSsh', 'waitForSsh', 'waitForSsh', 'configureBootOrder',
  ]);
  assert.deepEqual(result.steps.map((s) => s.step), ['findPassthroughDevice', 'createStorageVm', 'powerOnStorageVm', 'waitForGuest', 'waitForSsh', 'configureBootOrder']);
  assert.equal(result.backing, 'dynamic');
  assert.match(result.steps[3]!.report.found[0]!, /uss1 shows 192\.0\.2\.41, 10\.0\.1\.41/);
});

test('built and running already: every step only finds, nothing changes', async () => {
  const fake = fakeHost({ exists: true, on: true, ordered: true });
  const result = await run(fake.activities);
  assert.ok(result.steps.every((s) => s.report.changed.length === 0), JSON.stringify(result.steps));
});

test('passthrough not active: a non-retryable failure that says to run passthrough first; nothing built', async () => {
  const fake = fakeHost({ active: false });
  const cause = await failureOf(run(fake.activities));
  assert.equal(cause.type, Failure.PassthroughNotActive);
  assert.match(cause.message!, /not active for passthrough.*esxi-zfs passthrough FILE --host vh1/);
  assert.deepEqual(fake.calls, ['findPassthroughDevice']);
});

test('a VM of that name that differs: reported once (not retried), never powered on', async () => {
  const fake = fakeHost({ differs: true });
  const cause = await failureOf(run(fake.activities));
  assert.equal(cause.type, Failure.StorageVmDiffers);
  assert.deepEqual(fake.calls, ['findPassthroughDevice', 'createStorageVm']);
});

test('a guest that never shows its address: GuestNotReady after guestTimeout, saying what to check; SSH never tried', async () => {
  const fake = fakeHost({ never: true });
  const cause = await failureOf(run(fake.activities, { ...input, guestTimeoutMs: 3 * 60_000 }));
  assert.equal(cause.type, Failure.GuestNotReady);
  assert.match(cause.message!, /does not show 192\.0\.2\.41 after \d+ s.*tools guestToolsNotRunning.*VMware Tools/);
  assert.ok(!fake.calls.includes('waitForSsh'));
  assert.ok(fake.calls.filter((c) => c === 'waitForGuest').length >= 3, 'several short waits, not one long one');
});

test('SSH that never answers: GuestNotReady with the last error', async () => {
  const fake = fakeHost({ sshAfter: 1_000 });
  const cause = await failureOf(run(fake.activities, { ...input, guestTimeoutMs: 2 * 60_000 }));
  assert.equal(cause.type, Failure.GuestNotReady);
  assert.match(cause.message!, /SSH there does not answer.*ECONNREFUSED/);
  assert.ok(!fake.calls.includes('configureBootOrder'));
});
