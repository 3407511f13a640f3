/**
 * Request bodies against the WSDL's element order (golden XML in test/fixtures/vsphere/requests,
 * checked by hand against vim25's schema: a sequence, so any other order is refused by ESXi),
 * with xsi:type where a value's type is a subtype or sits in an anyType position.
 * `UPDATE_GOLDEN=1` rewrites the golden files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'xmlbuilder2';
import { EncodeError } from '../../activities/vsphere/vim25/encode';
import {
  AddVirtualNic, AddVirtualSwitch, CreateNasDatastore, CreateVM_Task, ReconfigureAutostart, ReconfigVM_Task, RefreshDatastore,
  RefreshStorageSystem, RemoveDatastore, RetrievePropertiesEx, UpdatePassthruConfig, WaitForUpdatesEx,
} from '../../activities/vsphere/vim25/methods';
import { deviceBackingFor, idHex, toSignedShort, toUnsignedId } from '../../activities/vsphere/vim25/pci';
import type { HostPciDevice, VirtualMachineConfigSpec, VirtualPCIPassthrough } from '../../activities/vsphere/vim25/types';
import { RecordingRoundTripper } from '../helpers/vsphere-recording';

const golden = (name: string, body: string) => {
  const pretty = create(body).end({ prettyPrint: true }) + '\n';
  const file = join(__dirname, '../fixtures/vsphere/requests', name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, pretty);
  assert.equal(pretty, readFileSync(file, 'utf8'));
};

const ref = (type: string, value: string) => ({ type, value });

/** The runbook's DDRdrive X1 (vendor 0x19e3) and an Intel device (0x8086: negative as a short). */
const ddrdrive: HostPciDevice = {
  id: '0000:03:00.0', classId: 0x0100, bus: 3, slot: 0, function: 0, vendorId: 0x19e3, subVendorId: 0x19e3,
  vendorName: 'DDRdrive LLC', deviceId: 0x0001, subDeviceId: 0x0001, deviceName: 'DDRdrive X1',
};

test('UpdatePassthruConfig: one HostPciPassthruConfig per device, id before passthruEnabled before applyNow', async () => {
  const rt = new RecordingRoundTripper();
  await UpdatePassthruConfig(rt, {
    _this: ref('HostPciPassthruSystem', 'ha-pcipassthrusystem'),
    config: [{ id: '0000:03:00.0', passthruEnabled: true }, { applyNow: false, passthruEnabled: false, id: '0000:04:00.0' }],
  });
  golden('UpdatePassthruConfig.xml', rt.lastBody);
});

test('ReconfigVM_Task: a VirtualPCIPassthrough pinned to the host device, msiEnabled FALSE, memory locked', async () => {
  const rt = new RecordingRoundTripper(() => ref('Task', 'task-1'));
  const device: VirtualPCIPassthrough = {
    _type: 'VirtualPCIPassthrough',
    key: -100,
    backing: deviceBackingFor(ddrdrive, '5e2f3c1a-0b4d-22c1-9f1e-001b21a3c4d5'),
  };
  const task = await ReconfigVM_Task(rt, {
    _this: ref('VirtualMachine', 'vm-12'),
    // Written in an order of its own: the body follows the schema's.
    spec: {
      memoryReservationLockedToMax: true,
      extraConfig: [{ key: 'pciPassthru0.msiEnabled', value: 'FALSE' }],
      deviceChange: [{ operation: 'add', device }],
    },
  });
  assert.deepEqual(task, ref('Task', 'task-1'));
  golden('ReconfigVM_Task.xml', rt.lastBody);
});

test('ReconfigVM_Task: Dynamic DirectPath I/O names the allowed vendor and device', async () => {
  const rt = new RecordingRoundTripper(() => ref('Task', 'task-2'));
  await ReconfigVM_Task(rt, {
    _this: ref('VirtualMachine', 'vm-12'),
    spec: {
      deviceChange: [{
        operation: 'add',
        device: {
          _type: 'VirtualPCIPassthrough',
          key: -100,
          backing: {
            _type: 'VirtualPCIPassthroughDynamicBackingInfo',
            deviceName: '',
            allowedDevice: [{ vendorId: 0x8086, deviceId: 0x0953 }],
            customLabel: 'slog',
          },
        },
      }],
    },
  });
  golden('ReconfigVM_Task-dynamic.xml', rt.lastBody);
});

test('CreateVM_Task: the storage VM with two NICs, a disk, an ISO, full reservation, then pool and host', async () => {
  const rt = new RecordingRoundTripper(() => ref('Task', 'task-3'));
  const config: VirtualMachineConfigSpec = {
    name: 'uss1',
    version: 'vmx-17',
    guestId: 'solaris11_64Guest',
    files: { vmPathName: '[datastore1]' },
    numCPUs: 2,
    memoryMB: 4096,
    memoryAllocation: { reservation: 4096 },
    memoryReservationLockedToMax: true,
    extraConfig: [{ key: 'pciPassthru0.msiEnabled', value: 'FALSE' }],
    deviceChange: [
      {
        operation: 'add',
        device: {
          _type: 'VirtualE1000', key: -1,
          backing: { _type: 'VirtualEthernetCardNetworkBackingInfo', deviceName: 'VM Network' },
          connectable: { startConnected: true, allowGuestControl: true, connected: true },
        },
      },
      {
        operation: 'add',
        device: {
          _type: 'VirtualVmxnet3', key: -2,
          backing: { _type: 'VirtualEthernetCardNetworkBackingInfo', deviceName: 'eSAN' },
        },
      },
      {
        operation: 'add',
        fileOperation: 'create',
        device: {
          _type: 'VirtualDisk', key: -3, controllerKey: 1000, unitNumber: 0, capacityInKB: 16 * 1024 * 1024,
          backing: { _type: 'VirtualDiskFlatVer2BackingInfo', fileName: '', diskMode: 'persistent', thinProvisioned: true },
        },
      },
      {
        operation: 'add',
        device: {
          _type: 'VirtualCdrom', key: -4, controllerKey: 200, unitNumber: 0,
          backing: { _type: 'VirtualCdromIsoBackingInfo', fileName: '[datastore1] iso/sol-11.iso' },
        },
      },
    ],
  };
  await CreateVM_Task(rt, { _this: ref('Folder', 'ha-folder-vm'), config, pool: ref('ResourcePool', 'ha-root-pool'), host: ref('HostSystem', 'ha-host') });
  golden('CreateVM_Task.xml', rt.lastBody);
});

test('CreateNasDatastore: remote host and path, local name, access mode, then the NFS type', async () => {
  const rt = new RecordingRoundTripper(() => ref('Datastore', 'ds-1'));
  const datastore = await CreateNasDatastore(rt, {
    _this: ref('HostDatastoreSystem', 'hostdatastoresystem-1'),
    spec: { type: 'NFS', accessMode: 'readWrite', localPath: 'uss1-nas-vol0', remotePath: '/export/uss1-nas-vol0', remoteHost: '10.0.1.41' },
  });
  assert.deepEqual(datastore, ref('Datastore', 'ds-1'));
  golden('CreateNasDatastore.xml', rt.lastBody);
});

test('recoverDatastores: RefreshStorageSystem on the host, RefreshDatastore on the datastore, RemoveDatastore names the datastore after _this', async () => {
  const rt = new RecordingRoundTripper();
  await RefreshStorageSystem(rt, { _this: ref('HostStorageSystem', 'storageSystem-1') });
  golden('RefreshStorageSystem.xml', rt.lastBody);
  await RefreshDatastore(rt, { _this: ref('Datastore', 'datastore-12') });
  golden('RefreshDatastore.xml', rt.lastBody);
  await RemoveDatastore(rt, { _this: ref('HostDatastoreSystem', 'hostdatastoresystem-1'), datastore: ref('Datastore', 'datastore-12') });
  golden('RemoveDatastore.xml', rt.lastBody);
});

test('the signed short: 0x19e3 fits, 0x8086 must go as -32634, and an unsigned 0x8086 is refused before sending', async () => {
  assert.equal(toSignedShort(0x19e3), 0x19e3);
  assert.equal(toSignedShort(0x8086), -32634);
  assert.equal(toUnsignedId(-32634), 0x8086);
  assert.equal(idHex(-32634), '8086');
  const intel = deviceBackingFor({ ...ddrdrive, vendorId: -32634, deviceId: toSignedShort(0xa0e3) }, 'sys');
  assert.equal(intel.vendorId, -32634);
  assert.equal(intel.deviceId, 'a0e3');
  const rt = new RecordingRoundTripper();
  const spec = (vendorId: number): VirtualMachineConfigSpec => ({
    deviceChange: [{ operation: 'add', device: { _type: 'VirtualPCIPassthrough', key: -1, backing: { ...intel, vendorId } } as VirtualPCIPassthrough }],
  });
  await assert.rejects(ReconfigVM_Task(rt, { _this: ref('VirtualMachine', 'vm-1'), spec: spec(0x8086) }), (error: Error) =>
    error instanceof EncodeError && /spec\.deviceChange\[0\]\.device\.backing\.vendorId: expected an xsd:short/.test(error.message));
  await ReconfigVM_Task(rt, { _this: ref('VirtualMachine', 'vm-1'), spec: spec(-32634) });
  assert.match(rt.lastBody, /<vendorId>-32634<\/vendorId>/);
});

test('the encoder refuses what the schema does not have, rather than sending it out of order', async () => {
  const rt = new RecordingRoundTripper();
  const call = (spec: unknown) => ReconfigVM_Task(rt, { _this: ref('VirtualMachine', 'vm-1'), spec: spec as VirtualMachineConfigSpec });
  await assert.rejects(call({ numCpus: 2 }), /VirtualMachineConfigSpec has no element 'numCpus'/);
  await assert.rejects(call({ deviceChange: [{ device: { _type: 'HostPciPassthruConfig', id: 'x', passthruEnabled: true } }] }),
    /a HostPciPassthruConfig is not a VirtualDevice/);
  await assert.rejects(call({ extraConfig: [{ key: 'a', value: 1 }] }), /anyType value must be a string/);
  await assert.rejects(call({ memoryMB: 1.5 }), /expected an xsd:long/);
  assert.equal(rt.calls.length, 0);
});

test('text is escaped, and a character XML cannot carry is refused', async () => {
  const rt = new RecordingRoundTripper();
  await UpdatePassthruConfig(rt, { _this: ref('HostPciPassthruSystem', 'a<b&"c'), config: [] });
  assert.match(rt.lastBody, /<_this type="HostPciPassthruSystem">a&lt;b&amp;"c<\/_this>/);
  await assert.rejects(UpdatePassthruConfig(rt, { _this: ref('HostPciPassthruSystem', 'a\u0000b'), config: [] }));
});

test('the storage network and boot order: AddVirtualSwitch with a bond bridge, AddVirtualNic, ReconfigureAutostart', async () => {
  const rt = new RecordingRoundTripper((call) => (call.method === 'AddVirtualNic' ? 'vmk1' : undefined));
  const network = ref('HostNetworkSystem', 'networkSystem');
  await AddVirtualSwitch(rt, {
    _this: network, vswitchName: 'vSwitch1', spec: { mtu: 9000, numPorts: 128, bridge: { _type: 'HostVirtualSwitchBondBridge', nicDevice: ['vmnic1'] } },
  });
  assert.equal(await AddVirtualNic(rt, {
    _this: network, portgroup: 'eSAN', nic: { ip: { dhcp: false, ipAddress: '10.0.1.11', subnetMask: '255.255.255.0' }, mtu: 9000 },
  }), 'vmk1');
  await ReconfigureAutostart(rt, {
    _this: ref('HostAutoStartManager', 'ha-autostart-mgr'),
    spec: {
      defaults: { enabled: true, startDelay: 120, waitForHeartbeat: true },
      powerInfo: [
        { key: ref('VirtualMachine', 'vm-uss1'), startOrder: 1, startDelay: -1, waitForHeartbeat: 'yes', startAction: 'powerOn', stopDelay: -1, stopAction: 'guestShutdown' },
        { key: ref('VirtualMachine', 'vm-app'), startOrder: 2, startDelay: -1, waitForHeartbeat: 'systemDefault', startAction: 'powerOn', stopDelay: -1, stopAction: 'systemDefault' },
      ],
    },
  });
  golden('AddVirtualSwitch.xml', rt.calls[0].body);
  golden('AddVirtualNic.xml', rt.calls[1].body);
  golden('ReconfigureAutostart.xml', rt.calls[2].body);
});

test('RetrievePropertiesEx with a TraversalSpec (xsi:type) and WaitForUpdatesEx with its options', async () => {
  const rt = new RecordingRoundTripper();
  await RetrievePropertiesEx(rt, {
    _this: ref('PropertyCollector', 'ha-property-collector'),
    specSet: [{
      propSet: [{ type: 'HostSystem', pathSet: ['name', 'config.pciPassthruInfo'] }],
      objectSet: [{ obj: ref('ContainerView', 'session[1]view'), skip: true, selectSet: [{ _type: 'TraversalSpec', name: 'view', type: 'ContainerView', path: 'view', skip: false }] }],
    }],
    options: {},
  });
  await WaitForUpdatesEx(rt, { _this: ref('PropertyCollector', 'session[1]pc'), version: '3', options: { maxWaitSeconds: 30 } });
  golden('RetrievePropertiesEx.xml', rt.calls[0].body);
  golden('WaitForUpdatesEx.xml', rt.calls[1].body);
});
