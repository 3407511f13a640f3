/**
 * Issue 13, worker SIGKILLed: configureStorage during its pool creation and during its management
 * address change, and buildStorageVm while the VM is created. Each case starts the run, lets a
 * spawned `esxi-zfs worker` process take it, SIGKILLs that process at the fault's moment, then a
 * new worker (the test's own, in process) finishes the run. Two lab storage hosts (real sshd,
 * zfs-fuse), one dev server and the lab's vSphere simulator serve all three cases. Asserted from
 * real state: the pools and their `zpool history`, the guest's addresses and files, the
 * simulator's VMs and their devices. Runs as root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import type { WorkflowHandle } from '@temporalio/client';
import { buildStorageVm, configureStorage, enablePassthrough } from '../../workflows';
import type { ConfigureStorageResult } from '../../core/configure/shared';
import type { BuildStorageVmResult } from '../../core/storage-vm/shared';
import { configureStorageInput } from '../../inventory/configure';
import { parseInventory } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { enablePassthroughInput } from '../../inventory/passthrough';
import { buildStorageVmInput } from '../../inventory/storage-vm';
import { HostSystem, VirtualMachine } from '../../activities/vsphere';
import { vsphereSessions } from '../../activities/vsphere/sessions';
import { revertFlag } from '../../core/guest/network/timed-revert';
import { sshBanner } from '../../lab/daemons';
import { run } from '../../lab/exec';
import { labDown, labExec, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { labHook } from '../../lab/vsphere-hook';
import { shellQuote, startVsphereSim, type VsphereSim } from '../../lab/vsphere';
import { recorded, type FaultRecorder } from '../helpers/reliability';
import { pidsOn, procFile, spawnWorker, until } from '../helpers/lab-processes';
import { startTestTemporal, workflowBundle, type TestTemporal } from '../helpers/temporal';

const DIR = path.resolve(__dirname, '../../.data/lab-fault-worker-kill-test');
const NAMES = ['wk-san-01', 'wk-san-02'];
const PASSWORD_ENV = 'ESXI_ZFS_TEST_VSPHERE_PASSWORD_WORKER_KILL';
const HYPERVISOR = 'vh1';

let lab: LabState;
let temporal: TestTemporal;
let sim: VsphereSim;
let simDir: string;
let h1: LabHostState;
let h2: LabHostState;
let inventoryText: string;
const sessions = vsphereSessions();

async function ok(host: LabHostState, ...argv: string[]): Promise<string> {
  const r = await labExec(host, argv);
  assert.equal(r.code, 0, `${host.name}: ${argv.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Runs `handle`'s workflow on a spawned worker, SIGKILLs it once `atFault` resolves, then finishes
 * the run on a new worker: the recovery clock runs from the new worker's start to the result.
 */
async function killedAt<T>(r: FaultRecorder, handle: WorkflowHandle, atFault: (freeze: () => void) => Promise<string>, afterKill?: () => Promise<void>): Promise<T> {
  const worker = spawnWorker(temporal);
  let moment: string;
  try {
    moment = await atFault(worker.freeze);
  } finally {
    await worker.kill();
    await afterKill?.();
  }
  r.happened(`The worker process was SIGKILLed ${moment}.`);
  r.recoveryStarted();
  const result = await temporal.withWorker(() => handle.result() as Promise<T>);
  r.recovered();
  return result;
}

/** The attempts of `activity` in the run's history, and the heartbeat timeout it was scheduled with. */
async function attemptsOf(handle: WorkflowHandle, activity: string): Promise<{ attempts: number[]; heartbeatSeconds: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<string, number>();
  let heartbeatSeconds = NaN;
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === activity) {
      scheduled.set(String(e.eventId), 1);
      heartbeatSeconds = Number(s.heartbeatTimeout?.seconds ?? NaN);
    }
  }
  const attempts = events.flatMap((e) => {
    const s = e.activityTaskStartedEventAttributes;
    return s && scheduled.has(String(s.scheduledEventId)) ? [s.attempt ?? 1] : [];
  });
  return { attempts, heartbeatSeconds };
}

function inventoryOf(text: string): Inventory {
  const loaded = parseInventory(text, 'lab.yaml');
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  return loaded.inventory;
}

const configureChanges = (result: ConfigureStorageResult, step: string) => result.steps.find((s) => s.step === step)!.report;

describe('worker SIGKILLed during configureStorage and buildStorageVm', { timeout: 600_000 }, () => {
  before(async () => {
    await labDown({ dir: DIR });
    [lab, temporal] = await Promise.all([labUp({ names: NAMES, dir: DIR }), startTestTemporal('fault-worker-kill'), workflowBundle()]);
    [h1, h2] = lab.hosts as [LabHostState, LabHostState];
    inventoryText = fs.readFileSync(lab.inventoryFile, 'utf8');
    simDir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-fault-worker-kill-'));
    sim = await startVsphereSim({
      dir: simDir,
      hosts: [{ name: HYPERVISOR, address: '10.213.9.41', rebootSeconds: 1, storageVm: { name: h1.name, labHost: h1.name, address: h1.address, storageAddress: h1.storageAddress } }],
      ...labHook(DIR),
    });
    process.env[PASSWORD_ENV] = sim.password;
  });

  after(async () => {
    await sessions.closeAll();
    await temporal?.stop();
    await sim?.stop();
    if (simDir) rmSync(simDir, { recursive: true, force: true });
    await labDown({ dir: DIR });
  });

  test('worker killed while configureStorage creates the pool: one pool, one zpool create, datasets and shares as configured', recorded('worker-kill/pool-create', async (r) => {
    const input = configureStorageInput(inventoryOf(inventoryText), h1.name);
    // One stray byte where label 0 would start (no signature, no label): the probe reads this disk
    // with zdb -l, as it does any disk whose label areas are not all zeros, and the hold below sees it.
    await ok(h1, 'sh', '-c', `printf '\\001' | dd of=${input.pool.data[0]!.disks[0]!.disk!} bs=1 seek=8192 conv=notrunc status=none`);
    const handle = await temporal.client.workflow.start(configureStorage, { args: [input], taskQueue: temporal.taskQueue, workflowId: `fault-pool-create-${process.pid}` });
    let creating: number[] = [];
    let daemonStopped = false;
    const result = await killedAt<ConfigureStorageResult>(r, handle, async (freeze) => {
      // Held at its `zpool create`: zfs-fuse's daemon stopped (SIGSTOP) as the step probes the disks'
      // labels (zdb -l, a fraction of a second per disk, without the daemon), so the create that
      // follows waits in the daemon, and the worker surely dies inside it.
      await until('createPool probing the disks', () => (pidsOn(h1, /zdb -l|(^|\/)zpool create /).length > 0 ? true : undefined), 300_000, 5);
      process.kill(h1.pids.zfsFuse, 'SIGSTOP');
      daemonStopped = true;
      creating = await until('zpool create on the storage host', () => {
        const pids = pidsOn(h1, /(^|\/)zpool create /);
        return pids.length > 0 ? pids : undefined;
      }, 60_000, 20);
      freeze();
      return `while its \`zpool create ${input.pool.name}\` ran on ${h1.name} (held: zfs-fuse's daemon stopped with SIGSTOP, continued after the kill)`;
    }, async () => {
      if (daemonStopped) process.kill(h1.pids.zfsFuse, 'SIGCONT');
      await until('the held zpool create to end', () => (creating.some((pid) => procFile(pid, 'stat') !== '') ? undefined : true), 60_000, 50);
    });

    const { attempts, heartbeatSeconds } = await attemptsOf(handle, 'createPool');
    assert.ok(attempts.some((a) => a > 1), `createPool was retried (attempts ${attempts.join(',')})`);
    assert.ok(heartbeatSeconds <= 10, `createPool's heartbeat timeout is ${heartbeatSeconds} s`);
    r.verified(`createPool was retried on the new worker (attempts ${attempts.join(', ')}), scheduled with a ${heartbeatSeconds} s heartbeat timeout`);
    const pool = configureChanges(result, 'createPool');
    r.happened(`The retried createPool ${pool.changed.length === 0 ? `found the pool the killed attempt had created (${pool.found[0] ?? ''})` : `created it: ${pool.changed.join('; ')}`}.`);

    assert.deepEqual((await ok(h1, 'zpool', 'list', '-H', '-o', 'name')).trim().split('\n'), [input.pool.name]);
    const creates = (await ok(h1, 'zpool', 'history', input.pool.name)).split('\n').filter((l) => /zpool create/.test(l));
    assert.equal(creates.length, 1, `one zpool create in the pool's history:\n${creates.join('\n')}`);
    r.verified(`exactly one pool on ${h1.name}, and exactly one \`zpool create\` in its \`zpool history\``);
    const status = await ok(h1, 'zpool', 'status', input.pool.name);
    const vdevDisks = (vdevs: { disks: { disk?: string }[] }[]) => vdevs.flatMap((v) => v.disks.map((d) => d.disk ?? ''));
    const disks = (kind: 'data' | 'log' | 'cache') => (kind === 'cache' ? input.pool.cache.map((d) => d.disk ?? '') : vdevDisks(input.pool[kind]));
    const expected = [...disks('data'), 'logs', ...disks('log'), 'cache', ...disks('cache')].filter(Boolean);
    const shown = status.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter((w) => expected.includes(w) || w === 'logs' || w === 'cache');
    assert.deepEqual(shown, expected, status);
    assert.doesNotMatch(status, /errors: (?!No known data errors)/);
    r.verified(`the pool's layout is the inventory's (${expected.join(' ')}), no errors`);
    for (const d of input.datasets) {
      const [mounted, sharenfs] = (await ok(h1, 'zfs', 'get', '-H', '-o', 'value', 'mounted,sharenfs', d.name)).trim().split('\n');
      assert.equal(mounted, 'yes', d.name);
      assert.notEqual(sharenfs, 'off', d.name);
    }
    r.verified(`the datasets (${input.datasets.map((d) => d.name).join(', ')}) are mounted and shared`);
    const again = await temporal.withWorker(() => temporal.client.workflow.execute(configureStorage, { args: [input], taskQueue: temporal.taskQueue, workflowId: `fault-pool-create-again-${process.pid}` }));
    assert.deepEqual(again.steps.flatMap((s) => s.report.changed), [], 'a run after it finds everything as the inventory says');
    r.verified('a further configureStorage run changes nothing: pool, datasets, properties and shares are the inventory\'s');
  }));

  test('worker killed during the management address change: the VM answers at its new address, persistently, no revert pending', recorded('worker-kill/address-change', async (r) => {
    const old = h2.address;
    const next = old.replace(/\.(\d+)$/, (_, n: string) => `.${Number(n) + 100}`);
    const doc = YAML.parseDocument(inventoryText);
    const vm = ['hosts', 1, 'storageVm'];
    doc.setIn([...vm, 'nics', 0, 'address'], `${next}/24`);
    doc.setIn([...vm, 'ssh', 'address'], next);
    const moved = inventoryOf(doc.toString());
    const input = configureStorageInput(moved, h2.name, old);
    const flag = revertFlag('management-switch');
    const handle = await temporal.client.workflow.start(configureStorage, { args: [input], taskQueue: temporal.taskQueue, workflowId: `fault-address-change-${process.pid}` });
    let listenerStopped = false;
    const result = await killedAt<ConfigureStorageResult>(r, handle, async () => {
      await until('the guarded switch (its timed revert armed)', async () => ((await labExec(h2, ['test', '-e', flag])).code === 0 ? true : undefined), 300_000, 10);
      // The worker now makes the new address persistent and removes the old one, then opens a new
      // session to verify: with sshd's listener stopped, it waits there, and dies in the middle.
      process.kill(h2.pids.sshd, 'SIGSTOP');
      listenerStopped = true;
      await until(`${old} removed from the guest`, async () => (new RegExp(`inet ${old.replace(/\./g, '\\.')}/`).test(await ok(h2, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0')) ? undefined : true), 60_000, 20);
      return `in the middle of the guarded management address change on ${h2.name} (${old} → ${next}): the new address persistent, the old one removed, its timed revert armed and not yet cancelled`;
    }, async () => {
      if (listenerStopped) process.kill(h2.pids.sshd, 'SIGCONT');
    });

    const { attempts, heartbeatSeconds } = await attemptsOf(handle, 'switchManagementAddress');
    assert.ok(attempts.some((a) => a > 1), `switchManagementAddress was retried (attempts ${attempts.join(',')})`);
    assert.ok(heartbeatSeconds <= 10, `switchManagementAddress's heartbeat timeout is ${heartbeatSeconds} s`);
    const report = configureChanges(result, 'switchManagementAddress');
    r.happened(`The retry found ${report.found.join('; ')}, and ${report.changed.join('; ') || 'changed nothing'}.`);
    r.verified(`switchManagementAddress was retried (attempts ${attempts.join(', ')}, heartbeat timeout ${heartbeatSeconds} s)`);

    const addresses = await ok(h2, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0');
    assert.match(addresses, new RegExp(`inet ${next.replace(/\./g, '\\.')}/24`));
    assert.doesNotMatch(addresses, new RegExp(`inet ${old.replace(/\./g, '\\.')}/`));
    assert.match(await sshBanner(next), /^SSH-2\.0-/);
    r.verified(`${h2.name} answers SSH at ${next}; ${old} is gone from eth0`);
    const persistent = await ok(h2, 'sh', '-c', 'cat /etc/network/interfaces /etc/network/interfaces.d/* 2>/dev/null');
    // Lines only: the old stanza stays in the file commented out (#esxi-zfs-off#).
    assert.match(persistent, new RegExp(`^\\s*address ${next.replace(/\./g, '\\.')}/24$`, 'm'));
    assert.doesNotMatch(persistent, new RegExp(`^\\s*address ${old.replace(/\./g, '\\.')}/`, 'm'));
    r.verified(`the persistent configuration (/etc/network/interfaces*) has ${next}/24 and not ${old}`);
    assert.notEqual((await labExec(h2, ['test', '-e', flag])).code, 0, 'the timed revert is cancelled');
    assert.notEqual((await labExec(h2, ['test', '-e', `${flag}.fired`])).code, 0, 'the timed revert did not fire');
    await until('the timed revert\'s shell to exit', () => (pidsOn(h2, /esxi-zfs-management-switch\.revert/).length === 0 ? true : undefined), 10_000, 100);
    r.verified('the timed revert is cancelled (its flag gone, never fired, its shell exited): the old address will not come back');
    const again = await temporal.withWorker(() => temporal.client.workflow.execute(configureStorage, { args: [configureStorageInput(moved, h2.name)], taskQueue: temporal.taskQueue, workflowId: `fault-address-change-again-${process.pid}` }));
    assert.deepEqual(again.steps.flatMap((s) => s.report.changed), [], 'found at the management address, nothing to change');
    r.verified(`a further configureStorage run reaches ${h2.name} at ${next} and changes nothing`);
  }));

  test('worker killed while buildStorageVm creates the VM: one VM with one passthrough device, the run completes', recorded('worker-kill/build-storage-vm', async (r) => {
    const doc = YAML.parse(inventoryText) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    doc.credentials.vsphere = { user: sim.username, passwordEnv: PASSWORD_ENV };
    doc.vsphere = { url: sim.url, credentials: 'vsphere', thumbprint: sim.thumbprint };
    doc.hosts[0].passthrough = { device: { vendorId: '0x19e3', classId: '0x0100' }, rebootTimeout: '5m', runningVms: 'powerOff' };
    Object.assign(doc.hosts[0].storageVm, { bootDisk: { sizeGiB: 8 }, guestTimeout: '2m' });
    const inventory = inventoryOf(YAML.stringify(doc));
    const vmName = h1.name;
    // Before the VM exists its guest is down (the simulator's hook brings the lab host up at power on).
    const off = await run('/bin/sh', ['-c', `${shellQuote(labHook(DIR).hook)} "$@"`, 'esxi-zfs-hook', 'vm-off', vmName, h1.name], { timeoutMs: 60_000 });
    assert.equal(off.code, 0, off.stderr);
    await temporal.withWorker(async () => (await temporal.client.workflow.start(enablePassthrough, {
      args: [enablePassthroughInput(inventory, HYPERVISOR)], taskQueue: temporal.taskQueue, workflowId: `fault-build-pt-${process.pid}`,
    })).result());
    const input = buildStorageVmInput(inventory, HYPERVISOR);
    const session = await sessions.session({ ...input.host.vsphere });
    const host = await HostSystem.find(session, HYPERVISOR);
    await (await host.networkSystem()).addPortGroup({ name: 'eSAN', vlanId: 0, vswitchName: 'vSwitch1', policy: {} });

    const handle = await temporal.client.workflow.start(buildStorageVm, {
      args: [{ ...input, bootOrder: { datastores: [`datastore1-${HYPERVISOR}`] } }], taskQueue: temporal.taskQueue, workflowId: `fault-build-${process.pid}`,
    });
    let pending: string[] = [];
    const result = await killedAt<BuildStorageVmResult>(r, handle, async (freeze) => {
      await until('the storage VM in the simulator', async () => ((await sim.control.host(HYPERVISOR)).vms.some((v) => v.name === vmName) ? true : undefined), 300_000, 10);
      freeze(); // stopped before it can report the step done: the step it is in is the one that dies
      pending = ((await handle.describe()).raw.pendingActivities ?? []).map((a) => a.activityType?.name ?? '');
      return `as soon as the storage VM appeared in vSphere (CreateVM_Task done; the step running then: ${pending.join(', ') || 'a local one'})`;
    });
    for (const activity of pending) {
      const { attempts, heartbeatSeconds } = await attemptsOf(handle, activity);
      assert.ok(attempts.some((a) => a > 1), `${activity} was retried (attempts ${attempts.join(',')})`);
      assert.ok(heartbeatSeconds <= 20, `${activity}'s heartbeat timeout is ${heartbeatSeconds} s`);
      r.verified(`${activity} was retried on the new worker (attempts ${attempts.join(', ')}, heartbeat timeout ${heartbeatSeconds} s)`);
    }

    assert.equal(result.steps.at(-1)?.step, 'configureBootOrder');
    const vms = (await sim.control.host(HYPERVISOR)).vms.filter((v) => v.name === vmName);
    assert.deepEqual(vms, [{ name: vmName, powerState: 'poweredOn', ipAddress: h1.address }]);
    r.verified(`exactly one VM named ${vmName} on ${HYPERVISOR}, powered on, its guest at ${h1.address}`);
    const vm = await VirtualMachine.find(session, vmName);
    const devices = (await vm.properties(['config.hardware.device']))['config.hardware.device'] as { _type?: string }[];
    assert.equal(devices.filter((d) => d._type === 'VirtualPCIPassthrough').length, 1);
    assert.equal(devices.filter((d) => d._type === 'VirtualVmxnet3').length, 2);
    r.verified('the VM has exactly one passthrough device and its two NICs (no device added twice)');
    assert.match(await sshBanner(h1.address), /^SSH-2\.0-/);
    r.verified('the guest answers SSH');
    const create = result.steps.find((s) => s.step === 'createStorageVm')!.report;
    r.happened(`The run's createStorageVm step reports: ${[...create.changed, ...create.found].join('; ').slice(0, 300)}.`);
  }));
});
