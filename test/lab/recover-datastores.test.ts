/**
 * recoverDatastores on the lab: two lab storage hosts (rec-san-01 is storage VM rec-san-01 on
 * ESXi host vh1 of the lab's vSphere), a real Temporal dev server, the product's activities.
 * configureStorage gives rec-san-01 its pool, two datasets and their NFS shares (real nfs-ganesha);
 * registerDatastore mounts both on vh1 and vh2; a VM app1 on vh2 runs from the second ("busy").
 *
 * Then vh1 reboots (RebootHost_Task): rec-san-01 powers off, its guest goes down (sshd by the
 * simulator's hook, the NFS server by the test) and both datastores go inaccessible on both hosts.
 * In the simulator's 'remount' mode (lab/vsphere/stale.go) they stay so whatever a refresh does.
 * recoverDatastores is started at once: it waits (SSH refused, then NFS not answering while the VM
 * is on but its NFS server not yet), the lab host reboots from its own configuration (lab/reboot.ts),
 * the exports answer, the idle datastore is remounted on both hosts, the busy one is reported with
 * app1 and left alone; a second run (the CLI, `--wait --json`, exit 1 for the busy one) changes nothing. In the 'refresh' mode a VM power cycle is
 * recovered by the refresh alone. The recovered share is read over NFS from vh1's storage address.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { configureStorage, recoverDatastores, registerDatastore } from '../../workflows';
import { recoverDatastoresProgressQuery, type RecoverDatastoresProgress, type RecoverDatastoresResult } from '../../core/datastore/recover';
import { parseInventory } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { configureStorageInput } from '../../inventory/configure';
import { recoverDatastoresInput, registerDatastoreInput } from '../../inventory/datastore';
import { createVm, HostSystem, VirtualMachine, vmFolder, type ManagedObjectReference } from '../../activities/vsphere';
import { vsphereSessions } from '../../activities/vsphere/sessions';
import { inHypervisor, labDown, labReboot, labUp, type LabState } from '../../lab/lab';
import { run } from '../../lab/exec';
import { nfsUrl } from '../../lab/nfs/client';
import { stopNfs } from '../../lab/nfs/server';
import { labHook } from '../../lab/vsphere-hook';
import { startVsphereSim, type SimDatastoreState, type VsphereSim } from '../../lab/vsphere';
import { recordHistory } from '../helpers/record-history';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';

const PASSWORD_ENV = 'ESXI_ZFS_TEST_VSPHERE_PASSWORD_RECOVER';
const LAB_DIR = path.resolve(__dirname, '..', '..', '.data', 'lab-recover-test');
const VM = 'rec-san-01';
const IDLE = 'rec-san-01-vol0';
const BUSY = 'rec-san-01-busy';
let lab: LabState;
let sim: VsphereSim;
let temporal: TestTemporal;
let simDir: string;
let inventory: Inventory;
let inventoryFile: string;
const CLI = path.resolve(__dirname, '..', '..', 'bin', 'esxi-zfs.js');
const sessions = vsphereSessions();

before(async () => {
  lab = await labUp({ names: [VM, 'rec-san-02'], dir: LAB_DIR });
  const labHost = lab.hosts[0]!;
  simDir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-recover-'));
  sim = await startVsphereSim({
    dir: simDir,
    hosts: [
      { name: 'vh1', address: '10.213.9.1', rebootSeconds: 1, storageVm: { name: VM, labHost: labHost.name, address: labHost.address, storageAddress: labHost.storageAddress } },
      { name: 'vh2', address: '10.213.9.2' },
    ],
    ...labHook(LAB_DIR),
  });
  process.env[PASSWORD_ENV] = sim.password;
  temporal = await startTestTemporal('recover');
  inventoryFile = path.join(simDir, 'inventory.yaml');
  writeFileSync(inventoryFile, labInventory());
  const loaded = parseInventory(readFileSync(inventoryFile, 'utf8'), inventoryFile);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  inventory = loaded.inventory;
});

after(async () => {
  await sessions.closeAll();
  await temporal?.stop();
  await sim?.stop();
  if (simDir) rmSync(simDir, { recursive: true, force: true });
  await labDown({ dir: LAB_DIR });
});

/** The lab's inventory with the simulator as its vSphere, a second dataset on rec-san-01, and both mounted on vh1 and vh2. */
function labInventory(): string {
  const doc = YAML.parse(readFileSync(lab.inventoryFile, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  doc.credentials.vsphere = { user: sim.username, passwordEnv: PASSWORD_ENV };
  doc.vsphere = { url: sim.url, credentials: 'vsphere', thumbprint: sim.thumbprint };
  const vm = doc.hosts[0].storageVm;
  vm.exportsTimeout = '3m';
  const [vol0] = vm.datasets;
  vol0.datastore = { name: IDLE, mountOn: ['vh1', 'vh2'] };
  delete vol0.replicateTo;
  vm.datasets.push({ name: 'sp1/nas/busy', mountpoint: `/export/${VM}-nas-busy`, share: vol0.share, datastore: { name: BUSY, mountOn: ['vh1', 'vh2'] } });
  delete doc.hosts[1].storageVm.datasets[0].replicateTo;
  return YAML.stringify(doc);
}

let runs = 0;
const workflowId = (name: string) => `recover-lab-${name}-${process.pid}-${++runs}`;

async function datastores(): Promise<Record<string, SimDatastoreState>> {
  return Object.fromEntries((await sim.control.datastores()).map((d) => [d.name, d]));
}

const mounts = (d: SimDatastoreState) => d.hosts.map((h) => `${h.host} ${h.accessible}`).sort().join(', ');

/** `host datastore state` of a run, sorted. */
const states = (result: RecoverDatastoresResult) =>
  result.hosts.flatMap((h) => h.datastores.map((d) => `${h.host} ${d.datastore} ${d.state}`)).sort();

async function session() {
  return sessions.session(recoverDatastoresInput(inventory, VM).hosts[0]!.host.vsphere);
}

async function powerStorageVm(on: boolean): Promise<void> {
  const vm = await VirtualMachine.find(await session(), VM);
  await (await (on ? vm.powerOn() : vm.powerOff())).wait({ maxWaitSeconds: 120 });
}

/** Waits until the run's progress satisfies `done` (its query, as the CLI reads it). */
async function progressUntil(id: string, done: (p: RecoverDatastoresProgress) => boolean, what: string): Promise<RecoverDatastoresProgress> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const p = await temporal.client.workflow.getHandle(id).query(recoverDatastoresProgressQuery);
    if (done(p)) return p;
    if (Date.now() > deadline) assert.fail(`${what}: progress is ${JSON.stringify(p)}`);
    await sleep(250);
  }
}

test('set up: the storage VM runs, its pool and shares are configured, its datastores mounted on vh1 and vh2, app1 runs from one', async () => {
  const s = await session();
  const vh1 = await HostSystem.find(s, 'vh1');
  const created = await createVm(s, await vmFolder(s), { name: VM, guestId: 'debian12_64Guest', files: { vmPathName: '[datastore1-vh1]' }, numCPUs: 2, memoryMB: 4096 }, await vh1.resourcePool(), vh1.ref);
  await created.wait();
  await powerStorageVm(true);

  const configured = await temporal.withWorker(async () =>
    (await temporal.client.workflow.start(configureStorage, { args: [configureStorageInput(inventory, VM)], taskQueue: temporal.taskQueue, workflowId: workflowId('configure') })).result());
  assert.ok(configured.steps.some((st) => st.report.changed.some((c) => /sp1\/nas\/busy: set sharenfs=/.test(c))), JSON.stringify(configured.steps.map((st) => st.report.changed)));
  await temporal.withWorker(async () =>
    (await temporal.client.workflow.start(registerDatastore, { args: [registerDatastoreInput(inventory, VM)], taskQueue: temporal.taskQueue, workflowId: workflowId('register') })).result());
  const ds = await datastores();
  assert.equal(mounts(ds[IDLE]!), 'vh1 true, vh2 true');
  assert.equal(mounts(ds[BUSY]!), 'vh1 true, vh2 true');

  const vh2 = await HostSystem.find(s, 'vh2');
  const app = await createVm(s, await vmFolder(s), { name: 'app1', guestId: 'debian12_64Guest', files: { vmPathName: `[${BUSY}]` }, numCPUs: 1, memoryMB: 512 }, await vh2.resourcePool(), vh2.ref);
  const appVm = new VirtualMachine(s, (await app.wait()).result as ManagedObjectReference);
  await (await appVm.powerOn()).wait();
  assert.deepEqual((await datastores())[BUSY]!.vms, ['app1 poweredOn']);
});

test('after vh1 reboots: waits for the exports, remounts the idle datastore on both hosts, reports the busy one; again: nothing changes', async () => {
  await sim.control.setStaleDatastores('remount');
  const vh1 = await HostSystem.find(await session(), 'vh1');
  await (await vh1.rebootHost(true)).wait();
  await vh1.waitFor(['runtime.connectionState'], (p) => p['runtime.connectionState'] === 'connected', { maxWaitSeconds: 60 });
  // The guest is down with its VM: the hook stopped its sshd; its NFS server goes too.
  await stopNfs(lab.hosts[0]!);
  const down = await datastores();
  assert.equal(mounts(down[IDLE]!), 'vh1 false, vh2 false');
  assert.equal(down[BUSY]!.accessible, false);

  const id = workflowId('recover');
  const result = await temporal.withWorker(async () => {
    const handle = await temporal.client.workflow.start(recoverDatastores, { args: [recoverDatastoresInput(inventory, VM)], taskQueue: temporal.taskQueue, workflowId: id });
    const waiting = await progressUntil(id, (p) => p.exportChecks >= 1 && p.lastCheck !== undefined, 'the first look at the exports');
    assert.equal(waiting.phase, 'waitingForExports');
    // The VM powers on: SSH answers (the hook starts sshd) but the NFS server does not yet.
    await powerStorageVm(true);
    const noNfs = await progressUntil(id, (p) => /does not answer on/.test(p.lastCheck ?? ''), 'NFS not answering while the VM is on');
    assert.equal(noNfs.phase, 'waitingForExports');
    // The guest boots from its own configuration: network, pool, NFS server and its shares, sshd.
    const rebooted = await labReboot({ dir: LAB_DIR, host: VM });
    assert.ok(rebooted.answers, rebooted.notes.join('; '));
    return handle.result();
  });
  await recordHistory(temporal.client, id, 'recoverDatastores-reboot');
  assert.equal(result.exports.answered, true, result.exports.detail);
  assert.ok(result.exportChecks >= 3, `checks: ${result.exportChecks}`);
  assert.deepEqual(states(result), [`vh1 ${BUSY} inaccessible`, `vh1 ${IDLE} remounted`, `vh2 ${BUSY} inaccessible`, `vh2 ${IDLE} remounted`]);
  for (const h of result.hosts) {
    const busy = h.datastores.find((d) => d.datastore === BUSY)!;
    assert.deepEqual(busy.runningVms, ['app1']);
    assert.match(busy.reason!, /AllPathsDown_Timeout\) with running VMs on it \(app1\): not remounted/);
  }
  const after = await datastores();
  assert.equal(mounts(after[IDLE]!), 'vh1 true, vh2 true');
  assert.equal(mounts(after[BUSY]!), 'vh1 false, vh2 false', 'the busy datastore is left as it was');
  assert.deepEqual(after[BUSY]!.vms, ['app1 poweredOn']);

  // The share answers over NFS from vh1's storage address (the lab's hypervisor namespace).
  const listed = await inHypervisor(lab, 'vh1', ['nfs-ls', nfsUrl(lab.hosts[0]!.storageAddress, `/export/${VM}-nas-vol0`, 3)], { timeoutMs: 30_000 });
  assert.equal(listed.code, 0, listed.stderr);

  // Again, as an operator runs it: the CLI, with the inventory file; exit 1 while a datastore is not accessible.
  const cli = await temporal.withWorker(() => run(CLI, ['recover-datastores', inventoryFile, '--vm', VM, '--wait', '--json'], {
    env: { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace }, timeoutMs: 180_000,
  }));
  assert.equal(cli.code, 1, cli.stderr);
  assert.match(cli.stderr, new RegExp(`still not accessible:\n${VM} on vh[12]: ${BUSY} inaccessible\n${VM} on vh[12]: ${BUSY} inaccessible`));
  const [again] = (JSON.parse(cli.stdout) as { results: RecoverDatastoresResult[] }).results;
  assert.equal(again!.exportChecks, 1);
  assert.deepEqual(states(again!), [`vh1 ${BUSY} inaccessible`, `vh1 ${IDLE} accessible`, `vh2 ${BUSY} inaccessible`, `vh2 ${IDLE} accessible`]);
  const now = await datastores();
  assert.deepEqual([IDLE, BUSY].map((n) => mounts(now[n]!)), [IDLE, BUSY].map((n) => mounts(after[n]!)), 'nothing changed');
});

test('a storage VM power cycle in the refresh mode: the refresh alone brings both back, nothing remounted', async () => {
  await sim.control.setStaleDatastores('refresh');
  await powerStorageVm(false);
  await powerStorageVm(true);
  assert.equal((await datastores())[IDLE]!.accessible, false);
  const id = workflowId('refresh');
  const result = await temporal.withWorker(async () =>
    (await temporal.client.workflow.start(recoverDatastores, { args: [recoverDatastoresInput(inventory, VM)], taskQueue: temporal.taskQueue, workflowId: id })).result());
  await recordHistory(temporal.client, id, 'recoverDatastores-refresh');
  assert.deepEqual(states(result), [`vh1 ${BUSY} accessible`, `vh1 ${IDLE} accessible`, `vh2 ${BUSY} accessible`, `vh2 ${IDLE} accessible`]);
  assert.ok(result.hosts.every((h) => h.refresh?.found.includes(`${h.host}: RefreshDatastore ${IDLE}`)));
  const ds = await datastores();
  assert.equal(mounts(ds[IDLE]!), 'vh1 true, vh2 true');
  assert.equal(mounts(ds[BUSY]!), 'vh1 true, vh2 true');
});
