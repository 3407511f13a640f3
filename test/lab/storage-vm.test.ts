/**
 * buildStorageVm against the lab's vSphere (govmomi's simulator with the lab's passthrough, power-on
 * checks, guest identity and autostart: lab/vsphere) over HTTPS and SOAP, with a real Temporal dev
 * server, the product's activities and one real lab storage host: the simulator's hook starts its
 * sshd when the storage VM powers on, so the run's SSH check talks to a real sshd with the pinned key.
 *
 * From a fresh model: refused while passthrough is not active (then enablePassthrough makes it so),
 * refused while a port group is missing, then built (CreateVM_Task), powered on, the guest's address
 * and SSH waited for, and the boot order set (the storage VM first, a VM on its datastore after it);
 * a second run changes nothing; a VM that differs is reported and left as it is. Runs as root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { WorkflowFailedError } from '@temporalio/client';
import { buildStorageVm, enablePassthrough } from '../../workflows';
import { Failure } from '../../core/failures';
import type { BuildStorageVmInput } from '../../core/storage-vm/shared';
import { parseInventory } from '../../inventory/load';
import { enablePassthroughInput } from '../../inventory/passthrough';
import { buildStorageVmInput } from '../../inventory/storage-vm';
import { createVm, HostSystem, VirtualMachine, vmFolder, type AutoStartPowerInfo, type ManagedObjectReference } from '../../activities/vsphere';
import { vsphereSessions } from '../../activities/vsphere/sessions';
import { sshBanner } from '../../lab/daemons';
import { run } from '../../lab/exec';
import { labDown, labUp, type LabState } from '../../lab/lab';
import { labHook } from '../../lab/vsphere-hook';
import { shellQuote, startVsphereSim, type VsphereSim } from '../../lab/vsphere';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { recordHistory } from '../helpers/record-history';

const PASSWORD_ENV = 'ESXI_ZFS_TEST_VSPHERE_PASSWORD';
const LAB_DIR = path.resolve(__dirname, '..', '..', '.data', 'lab-storage-vm-test');
const HOST = 'vh1';
let lab: LabState;
let sim: VsphereSim;
let temporal: TestTemporal;
let simDir: string;
const sessions = vsphereSessions();

before(async () => {
  lab = await labUp({ names: ['test-vm-01'], dir: LAB_DIR });
  const labHost = lab.hosts[0]!;
  simDir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-storage-vm-'));
  sim = await startVsphereSim({
    dir: simDir,
    hosts: [{ name: HOST, address: '10.213.9.1', rebootSeconds: 1, storageVm: { name: labHost.name, labHost: labHost.name, address: labHost.address, storageAddress: labHost.storageAddress } }],
    ...labHook(LAB_DIR),
  });
  process.env[PASSWORD_ENV] = sim.password;
  temporal = await startTestTemporal('storage-vm');
  // The VM is not built yet: its guest (the lab host's sshd) is down until the VM powers on.
  const off = await run('/bin/sh', ['-c', `${shellQuote(labHook(LAB_DIR).hook)} "$@"`, 'esxi-zfs-hook', 'vm-off', labHost.name, labHost.name], { timeoutMs: 60_000 });
  assert.equal(off.code, 0, off.stderr);
});

after(async () => {
  await sessions.closeAll();
  await temporal?.stop();
  await sim?.stop();
  if (simDir) rmSync(simDir, { recursive: true, force: true });
  await labDown({ dir: LAB_DIR });
});

/** The lab's own inventory, with the simulator as its vSphere, the X1 on vh1 and a boot disk for the storage VM. */
function inventory() {
  const doc = YAML.parse(readFileSync(lab.inventoryFile, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  doc.credentials.vsphere = { user: sim.username, passwordEnv: PASSWORD_ENV };
  doc.vsphere = { url: sim.url, credentials: 'vsphere', thumbprint: sim.thumbprint };
  const host = doc.hosts[0];
  host.passthrough = { device: { vendorId: '0x19e3', classId: '0x0100' }, rebootTimeout: '5m', runningVms: 'powerOff' };
  Object.assign(host.storageVm, { bootDisk: { sizeGiB: 8 }, guestTimeout: '2m' });
  const loaded = parseInventory(YAML.stringify(doc), 'lab.yaml');
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  return loaded.inventory;
}

function input(): BuildStorageVmInput {
  const built = buildStorageVmInput(inventory(), HOST);
  // The VMs that start after it: those on the host's local datastore, where the test puts one (the lab has no NFS datastore here).
  return { ...built, bootOrder: { datastores: [`datastore1-${HOST}`] } };
}

let runs = 0;
const workflowIdOf = (run: number) => `storage-vm-lab-${process.pid}-${run}`;
const start = (args: BuildStorageVmInput) =>
  temporal.client.workflow.start(buildStorageVm, { args: [args], taskQueue: temporal.taskQueue, workflowId: workflowIdOf(++runs) });
const build = (args = input()) => temporal.withWorker(async () => (await start(args)).result());

async function failure(args = input()): Promise<{ type?: string; message: string }> {
  const error = await build(args).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, String(error));
  const cause = error.cause as { type?: string; message: string; cause?: unknown };
  return (cause.type === undefined ? cause.cause : cause) as { type?: string; message: string };
}

async function client() {
  const args = input();
  return sessions.session({ ...args.host.vsphere });
}

test('buildStorageVm from a fresh model, again, and against a VM that differs', async () => {
  const labHost = lab.hosts[0]!;
  const vmName = labHost.name;
  assert.equal(await sshBanner(labHost.address), '', 'the guest is down before the VM exists');

  // Passthrough not active yet: refused, nothing built.
  const inactive = await failure();
  assert.equal(inactive.type, Failure.PassthroughNotActive);
  assert.match(inactive.message, /not active for passthrough.*esxi-zfs passthrough FILE --host vh1/);
  assert.deepEqual((await sim.control.host(HOST)).vms.map((v) => v.name), []);

  const enabled = await temporal.withWorker(async () =>
    (await temporal.client.workflow.start(enablePassthrough, { args: [enablePassthroughInput(inventory(), HOST)], taskQueue: temporal.taskQueue, workflowId: `storage-vm-lab-pt-${process.pid}` })).result());
  assert.equal(enabled.reboots, 1);

  // The storage port group is not there yet: refused, naming it.
  const noPortGroup = await failure();
  assert.equal(noPortGroup.type, Failure.StorageVmPrerequisite);
  assert.match(noPortGroup.message, /vh1 has no port group eSAN \(it has VM Network\)/);
  const session = await client();
  const host = await HostSystem.find(session, HOST);
  await (await host.networkSystem()).addPortGroup({ name: 'eSAN', vlanId: 0, vswitchName: 'vSwitch1', policy: {} });

  // A VM on the datastore that starts first today: it must come after the storage VM.
  const app = await createVm(session, await vmFolder(session), {
    name: 'app1', guestId: 'debian12_64Guest', files: { vmPathName: `[datastore1-${HOST}]` }, numCPUs: 1, memoryMB: 512,
  }, await host.resourcePool(), host.ref);
  const appRef = (await app.wait()).result as ManagedObjectReference;
  const autostart = await host.autoStartManager();
  await autostart.reconfigureAutostart({ powerInfo: [{ key: appRef, startOrder: 1, startDelay: -1, waitForHeartbeat: 'systemDefault', startAction: 'powerOn', stopDelay: -1, stopAction: 'systemDefault' }] });

  const first = await build();
  await recordHistory(temporal.client, workflowIdOf(runs), 'buildStorageVm');
  assert.deepEqual(first.steps.map((s) => s.step), ['findPassthroughDevice', 'createStorageVm', 'powerOnStorageVm', 'waitForGuest', 'waitForSsh', 'configureBootOrder']);
  assert.equal(first.backing, 'dynamic', 'the model host speaks API 8.0: Dynamic DirectPath I/O');
  assert.match(first.steps[1]!.report.changed[0]!, /created on vh1 in \[datastore1-vh1\]: 2 CPUs, 4096 MB all reserved, 2 vmxnet3 NICs on VM Network, eSAN, a 8 GiB boot disk/);
  const simHost = await sim.control.host(HOST);
  assert.deepEqual(simHost.vms.find((v) => v.name === vmName), { name: vmName, powerState: 'poweredOn', ipAddress: labHost.address });
  assert.match(await sshBanner(labHost.address), /^SSH-2\.0-/, 'powering the VM on brought its guest up');
  assert.ok((await sim.control.hookEvents()).includes(`vm-on ${vmName} ${labHost.name}`));

  const vm = await VirtualMachine.find(session, vmName);
  const p = await vm.properties(['config.memoryReservationLockedToMax', 'config.hardware.memoryMB', 'config.extraConfig', 'config.hardware.device']);
  assert.equal(p['config.memoryReservationLockedToMax'], true);
  assert.deepEqual((p['config.extraConfig'] as { key: string; value: unknown }[]).filter((o) => o.key.startsWith('pciPassthru')).map((o) => [o.key, o.value]), [['pciPassthru0.msiEnabled', 'FALSE']]);
  const devices = p['config.hardware.device'] as { _type?: string; backing?: { _type?: string; assignedId?: string; deviceName?: string } }[];
  const passthrough = devices.filter((d) => d._type === 'VirtualPCIPassthrough');
  assert.equal(passthrough.length, 1);
  assert.equal(passthrough[0]!.backing?._type, 'VirtualPCIPassthroughDynamicBackingInfo');
  assert.equal(passthrough[0]!.backing?.assignedId, '0000:0b:00.0', 'the host assigned the X1 at power on');
  assert.deepEqual(devices.filter((d) => d._type === 'VirtualVmxnet3').map((d) => d.backing?.deviceName), ['VM Network', 'eSAN']);

  const order = ((await autostart.config()).powerInfo ?? []) as AutoStartPowerInfo[];
  const byKey = (ref: ManagedObjectReference) => order.find((o) => o.key.value === ref.value);
  assert.deepEqual([byKey(vm.ref)?.startOrder, byKey(vm.ref)?.waitForHeartbeat, byKey(vm.ref)?.startAction], [1, 'yes', 'powerOn']);
  assert.deepEqual([byKey(appRef)?.startOrder, byKey(appRef)?.startAction], [2, 'powerOn']);
  assert.equal((await autostart.config()).defaults?.enabled, true);

  const again = await build();
  assert.deepEqual(again.steps.flatMap((s) => s.report.changed), [], 'a second run changes nothing');
  assert.match(again.steps[1]!.report.found[0]!, /exists with the inventory's configuration \(dynamic passthrough backing\)/);
  assert.equal((await sim.control.host(HOST)).vms.filter((v) => v.name === vmName).length, 1);

  // Someone gave the VM more CPUs and turned MSI back on: reported, left as it is.
  await (await vm.reconfigure({ numCPUs: 4, extraConfig: [{ key: 'pciPassthru0.msiEnabled', value: 'TRUE' }] })).wait();
  const differs = await failure();
  assert.equal(differs.type, Failure.StorageVmDiffers);
  assert.match(differs.message, /exists \(vm-\d+\) and is not the inventory's: 4 CPUs, the inventory says 2; pciPassthru0.msiEnabled is TRUE, the runbook sets FALSE\. Nothing was changed/);
  assert.equal((await vm.properties(['config.hardware.numCPU']))['config.hardware.numCPU'], 4);

  // Hardware version 14 (before Dynamic DirectPath I/O): the VM is built anew with the backing
  // pinned to the device (QueryConfigTarget's systemId), which the host checks at power on.
  await (await vm.powerOff()).wait();
  assert.equal(await sshBanner(labHost.address), '', 'the guest went down with its VM');
  await (await vm.destroy()).wait();
  const v14 = input();
  const fixed = await build({ ...v14, vm: { ...v14.vm, hardwareVersion: 'vmx-14' } });
  assert.equal(fixed.backing, 'fixed');
  assert.match(fixed.steps[1]!.report.changed[0]!, /0000:0b:00\.0 by DirectPath I\/O pinned to the device/);
  const rebuilt = await VirtualMachine.find(session, vmName);
  const backing = ((await rebuilt.properties(['config.hardware.device']))['config.hardware.device'] as { _type?: string; backing?: Record<string, unknown> }[])
    .find((d) => d._type === 'VirtualPCIPassthrough')?.backing;
  assert.equal(backing?._type, 'VirtualPCIPassthroughDeviceBackingInfo');
  assert.deepEqual([backing?.id, backing?.deviceId, backing?.vendorId], ['0000:0b:00.0', '4dd1', 0x19e3]);
  assert.ok(String(backing?.systemId ?? '').length > 0, 'the systemId from QueryConfigTarget');
  assert.match(await sshBanner(labHost.address), /^SSH-2\.0-/);
});
