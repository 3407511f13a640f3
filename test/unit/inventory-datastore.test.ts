/** registerDatastore's input from the inventory, and the VMkernel address as the API takes it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { requireInventory } from '../../inventory/load';
import { recoverDatastoresInput, registerDatastoreInput } from '../../inventory/datastore';
import { ipConfig, nfsType } from '../../activities/vsphere/datastore';

const runbook = requireInventory(path.join(__dirname, '../../examples/runbook.yaml'));

test('the runbook\'s uss1-nas-vol0 on vh0-vh3: each host\'s storage network, the share at uss1\'s storage address, NFS 3', () => {
  const input = registerDatastoreInput(runbook, 'uss1');
  assert.equal(input.vm, 'uss1');
  assert.deepEqual(input.hosts.map((h) => h.host.name), ['vh0', 'vh1', 'vh2', 'vh3']);
  const vh1 = input.hosts[1]!;
  assert.deepEqual(vh1.storageNetwork, { vswitch: 'vSwitch1', portGroup: 'eSAN', vmkernel: { name: 'eSAN-Interface1', address: '10.0.1.11/24' } });
  assert.deepEqual(vh1.mounts, [{ datastore: 'uss1-nas-vol0', remoteHost: '10.0.1.41', remotePath: '/export/uss1-nas-vol0', nfsVersion: '3', accessMode: 'readWrite' }]);
  assert.equal(vh1.host.vsphere.credential.passwordEnv, 'VSPHERE_PASSWORD');
});

test('a /24 and a /20 as address and dotted mask; NFS versions as the API names them', () => {
  assert.deepEqual(ipConfig('10.0.1.11/24'), { ipAddress: '10.0.1.11', subnetMask: '255.255.255.0' });
  assert.deepEqual(ipConfig('172.16.5.4/20'), { ipAddress: '172.16.5.4', subnetMask: '255.255.240.0' });
  assert.deepEqual(ipConfig('192.0.2.1/32'), { ipAddress: '192.0.2.1', subnetMask: '255.255.255.255' });
  assert.equal(nfsType({ datastore: 'a', remoteHost: 'h', remotePath: '/p', nfsVersion: '3', accessMode: 'readWrite' }), 'NFS');
  assert.equal(nfsType({ datastore: 'a', remoteHost: 'h', remotePath: '/p', nfsVersion: '4.1', accessMode: 'readWrite' }), 'NFS41');
});

test('recoverDatastores for uss1: its shares on the hosts that mount them, uss1 asked over SSH, 15 minutes unless the inventory says', () => {
  const input = recoverDatastoresInput(runbook, 'uss1');
  assert.equal(input.vm, 'uss1');
  assert.equal(input.storageHost.name, 'uss1');
  assert.equal(input.storageHost.storageAddress, '10.0.1.41');
  assert.deepEqual(input.exports, ['/export/uss1-nas-vol0']);
  assert.equal(input.nfsVersion, 3);
  assert.deepEqual(input.hosts.map((h) => [h.host.name, h.mounts.map((m) => m.datastore)]), [['vh0', ['uss1-nas-vol0']], ['vh1', ['uss1-nas-vol0']], ['vh2', ['uss1-nas-vol0']], ['vh3', ['uss1-nas-vol0']]]);
  assert.equal(input.exportsTimeoutMs, 15 * 60_000);
  assert.ok(!JSON.stringify(input).includes('password"'), 'no secret, only references');
});
