/**
 * buildStorageVm's pure parts: the inventory's new storageVm fields (their grammar and defaults per
 * os), the input built from the runbook's inventory (no secret), the CreateVM_Task config the
 * activity sends (reservation locked, devices, extraConfig, the passthrough backing chosen by the
 * host's API and hardware version) encoded through the client, and what an existing VM is compared on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseInventory, requireInventory } from '../../inventory/load';
import { buildStorageVmInput, storageVmHosts } from '../../inventory/storage-vm';
import { autostartChanges, passthroughBackingKind, storageVmConfigSpec, vmDifferences, type ExistingVm, type VmPlacement } from '../../activities/vsphere/storage-vm';
import { CreateVM_Task } from '../../activities/vsphere/vim25/methods';
import type { AutoStartPowerInfo, HostPciDevice, VirtualDevice } from '../../activities/vsphere/vim25/types';
import type { StorageVmSpec } from '../../core/storage-vm/shared';
import { RecordingRoundTripper } from '../helpers/vsphere-recording';

const file = path.join(__dirname, '../../examples/runbook.yaml');
const text = readFileSync(file, 'utf8');
const runbook = requireInventory(file);
const ref = (type: string, value: string) => ({ type, value });

test("the runbook's uss1: its VM from the inventory, illumos defaults, the datastores it serves, no secret", () => {
  assert.deepEqual(storageVmHosts(runbook), ['vh1', 'vh2']);
  process.env.VSPHERE_PASSWORD = 'not-in-any-input';
  const input = buildStorageVmInput(runbook, 'vh1');
  assert.deepEqual(input.vm, {
    name: 'uss1', guestId: 'solaris11_64Guest', cpus: 2, memoryMB: 4096, datastore: 'datastore1',
    nics: [{ portGroup: 'VM Network' }, { portGroup: 'eSAN' }], nicType: 'e1000', scsiController: 'lsilogicsas',
    bootDisk: { sizeGiB: 16 }, iso: '[datastore1] iso/osol-0906-x86.iso',
  });
  assert.deepEqual(input.device, { vendorId: '0x19e3', classId: '0x0100' });
  assert.equal(input.ssh.address, '192.0.2.41');
  assert.equal(input.guestTimeoutMs, 15 * 60_000);
  assert.deepEqual(input.bootOrder, { datastores: ['uss1-nas-vol0'] });
  assert.ok(!JSON.stringify(input).includes('not-in-any-input'));
  assert.equal(buildStorageVmInput(runbook, 'vh2').vm.datastore, undefined, 'no datastore: chosen at run time');
  assert.throws(() => buildStorageVmInput(runbook, 'vh0'), /vh0 has no storage VM/);
});

test('linux defaults: vmxnet3, paravirtual SCSI, debian12_64Guest; the inventory overrides them', () => {
  const linux = parseInventory(text.replace('os: illumos                  #', 'os: linux                  #'), 'x.yaml');
  assert.ok(linux.ok);
  const vm = buildStorageVmInput(linux.inventory, 'vh1').vm;
  assert.deepEqual([vm.guestId, vm.nicType, vm.scsiController], ['debian12_64Guest', 'vmxnet3', 'pvscsi']);
  const over = parseInventory(text.replace('bootDisk: { sizeGiB: 16 }\n      iso', 'bootDisk: { sizeGiB: 16 }\n      guestId: other5xLinux64Guest\n      nicType: vmxnet3\n      hardwareVersion: vmx-19\n      guestTimeout: 5m\n      iso'), 'x.yaml');
  assert.ok(over.ok, JSON.stringify(!over.ok && over.problems));
  const input = buildStorageVmInput(over.inventory, 'vh1');
  assert.deepEqual([input.vm.guestId, input.vm.nicType, input.vm.hardwareVersion, input.guestTimeoutMs], ['other5xLinux64Guest', 'vmxnet3', 'vmx-19', 5 * 60_000]);
});

test('the new fields are strict: datastore and ISO names, sizes, hardware version, guest id, NIC type', () => {
  const refused = (from: string, to: string, where: RegExp) => {
    const loaded = parseInventory(text.replace(from, to), 'x.yaml');
    assert.ok(!loaded.ok, `${to} was accepted`);
    assert.match(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n'), where);
  };
  refused('datastore: datastore1 ', 'datastore: "data store" ', /storageVm\.datastore: datastore names/);
  refused('datastore: datastore1 ', 'datastore: uss1-nas-vol0 ', /storageVm\.datastore: uss1-nas-vol0 is served by this VM itself/);
  refused('bootDisk: { sizeGiB: 16 }\n      iso', 'bootDisk: { sizeGiB: 0 }\n      iso', /bootDisk\.sizeGiB/);
  refused('bootDisk: { sizeGiB: 16 }\n      iso', 'bootDisk: { sizeGiB: 1.5 }\n      iso', /bootDisk\.sizeGiB/);
  refused('bootDisk: { sizeGiB: 16 }\n      iso', 'bootDisk: { sizeGB: 16 }\n      iso', /bootDisk/);
  refused('"[datastore1] iso/osol-0906-x86.iso"', '"/vmfs/volumes/datastore1/osol.iso"', /storageVm\.iso: must be an ISO on a datastore/);
  refused('"[datastore1] iso/osol-0906-x86.iso"', '"[datastore1] ../osol.iso"', /storageVm\.iso: must not climb/);
  refused('"[datastore1] iso/osol-0906-x86.iso"', '"[datastore1] iso/osol.img"', /storageVm\.iso/);
  refused('"[datastore1] iso/osol-0906-x86.iso"', '"[uss1-nas-vol0] osol.iso"', /storageVm\.iso: the ISO is on a datastore this VM serves/);
  const add = (line: string) => text.replace('bootDisk: { sizeGiB: 16 }\n      iso', `bootDisk: { sizeGiB: 16 }\n      ${line}\n      iso`);
  for (const [line, where] of [
    ['hardwareVersion: 17', /hardwareVersion/], ['hardwareVersion: vmx-6', /vmx-7 to vmx-30/], ['hardwareVersion: vmx-017', /hardwareVersion/],
    ['guestId: solaris 11', /guestId: must be a vSphere guest id/], ['nicType: e1000e', /nicType/], ['guestTimeout: 10s', /guestTimeout/],
  ] as const) {
    const loaded = parseInventory(add(line), 'x.yaml');
    assert.ok(!loaded.ok, `${line} was accepted`);
    assert.match(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n'), where);
  }
  const neither = parseInventory(text.replace('      bootDisk: { sizeGiB: 16 }    # no datastore: the host\'s only one that is not NFS\n', ''), 'x.yaml');
  assert.ok(neither.ok);
  assert.throws(() => buildStorageVmInput(neither.inventory, 'vh2'), /uss2: give it a bootDisk/);
});

const x1: HostPciDevice = {
  id: '0000:0b:00.0', classId: 0x0100, bus: 11, slot: 0, function: 0, vendorId: 0x19e3, subVendorId: 0x19e3,
  vendorName: 'DDRdrive LLC', deviceId: 0x4dd1, subDeviceId: 0x4dd1, deviceName: 'DDRdrive X1',
};
const spec: StorageVmSpec = {
  name: 'uss1', guestId: 'solaris11_64Guest', cpus: 2, memoryMB: 4096, nics: [{ portGroup: 'VM Network' }, { portGroup: 'eSAN' }],
  nicType: 'e1000', scsiController: 'lsilogicsas', bootDisk: { sizeGiB: 16 }, iso: '[datastore1] iso/osol.iso',
};
const placement = (backing: 'fixed' | 'dynamic'): VmPlacement => ({
  datastore: 'datastore1', device: x1, backing, systemId: '4c4c4544-0042',
  networks: [{ portGroup: 'VM Network', network: ref('Network', 'network-1') }, { portGroup: 'eSAN', network: ref('Network', 'network-7') }],
});

test('the passthrough backing by the host\'s API version and the hardware version', () => {
  assert.equal(passthroughBackingKind('6.7.3'), 'fixed');
  assert.equal(passthroughBackingKind('6.0'), 'fixed');
  assert.equal(passthroughBackingKind('7.0.3.0'), 'dynamic');
  assert.equal(passthroughBackingKind('8.0.2.0'), 'dynamic');
  assert.equal(passthroughBackingKind('8.0.2.0', 'vmx-14'), 'fixed', 'Dynamic DirectPath I/O needs hardware version 17');
  assert.equal(passthroughBackingKind('7.0', 'vmx-17'), 'dynamic');
  assert.equal(passthroughBackingKind('', undefined), 'fixed');
});

test('CreateVM_Task config: memory all reserved and locked, NICs on their networks, disk and ISO on their controllers, the device, MSI off', async () => {
  const config = storageVmConfigSpec(spec, placement('fixed'));
  assert.equal(config.memoryReservationLockedToMax, true);
  assert.deepEqual(config.memoryAllocation, { reservation: 4096 });
  assert.deepEqual(config.extraConfig, [{ key: 'pciPassthru0.msiEnabled', value: 'FALSE' }]);
  assert.deepEqual([config.name, config.guestId, config.numCPUs, config.memoryMB, config.files], ['uss1', 'solaris11_64Guest', 2, 4096, { vmPathName: '[datastore1]' }]);
  assert.equal(config.version, undefined, 'no hardware version in the inventory: the host\'s default');
  const devices = config.deviceChange!.map((c) => c.device as VirtualDevice & Record<string, unknown>);
  assert.deepEqual(devices.map((d) => d._type), [
    'VirtualE1000', 'VirtualE1000', 'VirtualLsiLogicSASController', 'VirtualDisk', 'VirtualAHCIController', 'VirtualCdrom', 'VirtualPCIPassthrough',
  ]);
  assert.deepEqual(devices.slice(0, 2).map((d) => d.backing), [
    { _type: 'VirtualEthernetCardNetworkBackingInfo', deviceName: 'VM Network', network: ref('Network', 'network-1') },
    { _type: 'VirtualEthernetCardNetworkBackingInfo', deviceName: 'eSAN', network: ref('Network', 'network-7') },
  ]);
  const disk = devices[3]!;
  assert.equal(disk.controllerKey, devices[2]!.key);
  assert.equal(disk.capacityInKB, 16 * 1024 * 1024);
  assert.deepEqual(disk.backing, { _type: 'VirtualDiskFlatVer2BackingInfo', fileName: '[datastore1] uss1/uss1.vmdk', diskMode: 'persistent', thinProvisioned: true });
  assert.equal(config.deviceChange![3]!.fileOperation, 'create');
  assert.equal(config.deviceChange![5]!.fileOperation, undefined, 'the ISO is not created');
  assert.deepEqual(devices[5]!.backing, { _type: 'VirtualCdromIsoBackingInfo', fileName: '[datastore1] iso/osol.iso' });
  assert.equal(devices[5]!.controllerKey, devices[4]!.key);
  assert.deepEqual(devices[6]!.backing, {
    _type: 'VirtualPCIPassthroughDeviceBackingInfo', deviceName: 'DDRdrive X1', id: '0000:0b:00.0', deviceId: '4dd1', systemId: '4c4c4544-0042', vendorId: 0x19e3,
  });
  assert.equal(new Set(devices.map((d) => d.key)).size, devices.length, 'one key per new device');
  assert.ok(devices.every((d) => d.key < 0), 'new devices have negative keys');

  const dynamic = storageVmConfigSpec({ ...spec, nicType: 'vmxnet3', scsiController: 'pvscsi', hardwareVersion: 'vmx-19' }, placement('dynamic'));
  assert.equal(dynamic.version, 'vmx-19');
  const dd = dynamic.deviceChange!.map((c) => c.device);
  assert.deepEqual(dd.map((d) => d._type).slice(0, 3), ['VirtualVmxnet3', 'VirtualVmxnet3', 'ParaVirtualSCSIController']);
  assert.deepEqual(dd.at(-1)!.backing, { _type: 'VirtualPCIPassthroughDynamicBackingInfo', deviceName: '', allowedDevice: [{ vendorId: 0x19e3, deviceId: 0x4dd1 }] });

  // The ids as the host's config target lists them for Dynamic DirectPath I/O, when it does (Intel's 0x8086 unsigned here).
  const intel = storageVmConfigSpec(spec, { ...placement('dynamic'), device: { ...x1, vendorId: -32634 }, allowed: { vendorId: 0x8086, deviceId: 0x4dd1 } });
  assert.deepEqual((intel.deviceChange!.at(-1)!.device.backing as { allowedDevice?: unknown }).allowedDevice, [{ vendorId: 0x8086, deviceId: 0x4dd1 }]);

  // Both encode through the client (which refuses an element the schema lacks) in the WSDL's order.
  for (const config of [storageVmConfigSpec(spec, placement('fixed')), dynamic]) {
    const rt = new RecordingRoundTripper(() => ref('Task', 'task-1'));
    await CreateVM_Task(rt, { _this: ref('Folder', 'group-v3'), config, pool: ref('ResourcePool', 'resgroup-8'), host: ref('HostSystem', 'host-21') });
    const body = rt.lastBody;
    const order = ['<name>', '<guestId>', '<files>', '<numCPUs>', '<memoryMB>', '<deviceChange>', '<memoryAllocation>', '<extraConfig>', '<memoryReservationLockedToMax>'];
    const at = order.map((e) => body.indexOf(e));
    assert.ok(at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1]!)), `elements in the schema's order: ${at.join(' ')}`);
    assert.match(body, /xsi:type="VirtualPCIPassthrough(Device|Dynamic)BackingInfo"/);
    assert.match(body, /<memoryReservationLockedToMax>true<\/memoryReservationLockedToMax>/);
  }
});

test('an existing VM: the same configuration is accepted; each difference is named; an ejected ISO is only a warning', () => {
  const config = storageVmConfigSpec(spec, placement('fixed'));
  const same: ExistingVm = {
    host: 'vh1', numCPU: 2, memoryMB: 4096, lockedToMax: true, reservation: 4096, guestId: 'solaris11_64Guest', version: 'vmx-19',
    devices: config.deviceChange!.map((c, i) => ({ ...c.device, key: 4000 + i })),
    extraConfig: [{ key: 'pciPassthru0.msiEnabled', value: 'FALSE' }],
  };
  assert.deepEqual(vmDifferences(spec, same, { host: 'vh1', device: x1 }), { differs: [], warnings: [] });
  const dynamic = { ...same, devices: storageVmConfigSpec(spec, placement('dynamic')).deviceChange!.map((c, i) => ({ ...c.device, key: 4000 + i })) };
  assert.deepEqual(vmDifferences(spec, dynamic, { host: 'vh1', device: x1 }).differs, [], 'a dynamic backing that allows the device is the device');

  const other: ExistingVm = {
    ...same, host: 'vh2', numCPU: 4, memoryMB: 2048, lockedToMax: false, reservation: 0, guestId: 'otherGuest',
    devices: same.devices.filter((d) => d._type !== 'VirtualPCIPassthrough' && d._type !== 'VirtualCdrom').map((d) => (d._type === 'VirtualE1000' && d.key === 4001 ? { ...d, backing: { _type: 'VirtualEthernetCardNetworkBackingInfo', deviceName: 'VM Network' } } : d)),
    extraConfig: [],
  };
  const { differs, warnings } = vmDifferences(spec, other, { host: 'vh1', device: x1 });
  assert.deepEqual(differs, [
    'it runs on vh2, not vh1',
    '4 CPUs, the inventory says 2',
    '2048 MB memory, the inventory says 4096',
    'its memory is not all reserved (reservation 0 MB, memoryReservationLockedToMax false): passthrough needs it',
    'its NICs are on [VM Network, VM Network], the inventory says [VM Network, eSAN]',
    "it has no PCI passthrough device (the inventory's 0000:0b:00.0)",
    'pciPassthru0.msiEnabled is unset, the runbook sets FALSE',
  ]);
  assert.deepEqual(warnings, ['its CD-ROM does not hold [datastore1] iso/osol.iso (ejected after the install?)', 'guest id otherGuest, the inventory says solaris11_64Guest']);
  const wrongDevice = { ...same, devices: same.devices.map((d) => (d._type === 'VirtualPCIPassthrough' ? { ...d, backing: { ...d.backing, id: '0000:0c:00.0' } } : d)) };
  assert.match(vmDifferences(spec, wrongDevice, { host: 'vh1', device: x1 }).differs.join(), /its PCI passthrough device is not 0000:0b:00.0/);
  const vmxnet = { ...same, devices: same.devices.map((d) => (d._type === 'VirtualE1000' ? { ...d, _type: 'VirtualVmxnet3' } : d)) };
  assert.deepEqual(vmDifferences(spec, vmxnet, { host: 'vh1', device: x1 }).differs, ['its NICs are VirtualVmxnet3, the inventory says e1000']);
  const small = { ...same, devices: same.devices.map((d) => (d._type === 'VirtualDisk' ? { ...d, capacityInKB: 1024 } : d)) };
  assert.deepEqual(vmDifferences(spec, small, { host: 'vh1', device: x1 }).differs, ["its disks are smaller than the inventory's 16 GiB boot disk"]);
});

test('boot order: the storage VM first with its heartbeat, the VMs on its datastores after it, others after them; only what differs is sent', () => {
  const vm = (value: string) => ref('VirtualMachine', value);
  const info = (key: string, startOrder: number, over: Partial<AutoStartPowerInfo> = {}): AutoStartPowerInfo => ({
    key: vm(key), startOrder, startDelay: -1, waitForHeartbeat: 'systemDefault', startAction: 'powerOn', stopDelay: -1, stopAction: 'systemDefault', ...over,
  });
  const hostVms = ['uss1', 'app1', 'app2', 'app3', 'dns'].map(vm);
  const dependents = [{ ref: vm('app3'), name: 'c-app' }, { ref: vm('app2'), name: 'b-app' }, { ref: vm('app1'), name: 'a-app' }];
  const order = (changes: AutoStartPowerInfo[]) => changes.map((c) => `${c.key.value}:${c.startOrder}`);

  // Nothing ordered yet: every entry is new; the dependents by name.
  const fresh = autostartChanges({ defaults: { enabled: false } }, { storage: vm('uss1'), dependents, hostVms });
  assert.deepEqual(order(fresh.changes), ['uss1:1', 'app1:2', 'app2:3', 'app3:4']);
  assert.deepEqual([fresh.changes[0]!.waitForHeartbeat, fresh.changes[0]!.startAction, fresh.changes[0]!.stopAction], ['yes', 'powerOn', 'guestShutdown']);

  // Applied: nothing to send.
  assert.deepEqual(autostartChanges({ powerInfo: fresh.changes }, { storage: vm('uss1'), dependents, hostVms }).changes, []);

  // A dependent and an unrelated VM ahead of the storage VM, a stale entry of a destroyed VM: the
  // storage VM moves first, the ordered dependent keeps its place among the dependents, the DNS VM
  // comes after them with its own settings, the stale entry is not sent.
  const before = [info('app2', 1), info('dns', 2, { startDelay: 30 }), info('uss1', 3), info('gone', 4)];
  const moved = autostartChanges({ powerInfo: before }, { storage: vm('uss1'), dependents, hostVms });
  assert.deepEqual(order(moved.changes), ['uss1:1', 'app2:2', 'app1:3', 'app3:4', 'dns:5']);
  assert.equal(moved.changes.at(-1)!.startDelay, 30, 'an unrelated VM keeps its own settings');
  assert.ok(!moved.changes.some((c) => c.key.value === 'gone'));

  // In place but not waited for, a dependent set not to start: only those two are sent.
  const almost = [info('uss1', 1, { waitForHeartbeat: 'no' }), info('app1', 2), info('app2', 3, { startAction: 'none' }), info('app3', 4)];
  assert.deepEqual(order(autostartChanges({ powerInfo: almost }, { storage: vm('uss1'), dependents, hostVms }).changes), ['uss1:1', 'app2:3']);
});
