/**
 * The reference to a storage VM that workflows are given (inventory/targets.ts): its SSH address,
 * pinned key and credential reference, and the storage address replication uses: the NIC on its
 * ESXi host's storage port group, else the first that is neither the management NIC nor has a
 * gateway, else the only one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventory } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { findStorageVm, storageHostRef, storageVms } from '../../inventory/targets';
import { exampleText } from '../helpers/inventory';

function example(): Inventory {
  const result = parseInventory(exampleText, 'runbook.yaml');
  assert.ok(result.ok);
  return structuredClone(result.inventory);
}

const storageAddressOf = (inventory: Inventory, vm: string) => storageHostRef(inventory, findStorageVm(inventory, vm)).storageAddress;

test('the runbook example: each VM\'s SSH address, pinned key, credential reference (no secret), and its eSAN address', () => {
  const inventory = example();
  assert.deepEqual(storageVms(inventory).map((vm) => vm.name), ['uss1', 'uss2']);
  const uss1 = findStorageVm(inventory, 'uss1');
  assert.deepEqual(storageHostRef(inventory, uss1), {
    name: 'uss1',
    os: uss1.os,
    address: '192.0.2.41',
    port: uss1.ssh.port,
    hostKey: uss1.ssh.hostKey,
    credential: { user: 'root', privateKeyFile: '~/.ssh/esxi-zfs_ed25519', privateKeyEnv: undefined, passwordEnv: undefined, passphraseEnv: undefined },
    diskDirectory: uss1.diskDirectory,
    storageAddress: '10.0.1.41',
  });
  assert.equal(storageAddressOf(inventory, 'uss2'), '10.0.1.42');
  assert.throws(() => findStorageVm(inventory, 'uss9'), /^Error: storage VM 'uss9' is not in the inventory \(uss1, uss2\)$/);
});

test('the storage NIC is the one on its own ESXi host\'s storage port group, wherever it is listed', () => {
  const inventory = example();
  const uss1 = findStorageVm(inventory, 'uss1');
  uss1.nics.reverse();
  assert.equal(storageAddressOf(inventory, 'uss1'), '10.0.1.41');
  // Another non-management NIC listed before it, and another host whose storage port group is that one's.
  uss1.nics = [uss1.nics[1]!, { portGroup: 'Backup', address: '10.0.9.41/24' }, uss1.nics[0]!];
  assert.equal(storageAddressOf(inventory, 'uss1'), '10.0.1.41');
  inventory.hosts.find((h) => h.name === 'vh2')!.storageNetwork!.portGroup = 'Backup';
  assert.equal(storageAddressOf(inventory, 'uss1'), '10.0.1.41', 'its own host\'s port group, not another host\'s');
  inventory.hosts.find((h) => h.name === 'vh1')!.storageNetwork!.portGroup = 'Backup';
  assert.equal(storageAddressOf(inventory, 'uss1'), '10.0.9.41');
});

test('without a storage port group: the first NIC that is not the management one and has no gateway; else the only one', () => {
  const inventory = example();
  delete inventory.hosts.find((h) => h.name === 'vh1')!.storageNetwork;
  const uss1 = findStorageVm(inventory, 'uss1');
  uss1.nics = [
    { portGroup: 'VM Network', address: '192.0.2.41/24' },
    { portGroup: 'Routed', address: '10.0.7.41/24', gateway: '10.0.7.1' },
    { portGroup: 'eSAN', address: '10.0.1.41/24' },
  ];
  assert.equal(storageAddressOf(inventory, 'uss1'), '10.0.1.41');
  uss1.nics = [{ portGroup: 'VM Network', address: '192.0.2.41/24', gateway: '192.0.2.1' }];
  assert.equal(storageAddressOf(inventory, 'uss1'), '192.0.2.41');
});

test('a credential the inventory does not define is an error naming it and the VM', () => {
  const inventory = example();
  const uss1 = findStorageVm(inventory, 'uss1');
  uss1.ssh.credentials = 'missing';
  assert.throws(() => storageHostRef(inventory, uss1), /^Error: credential 'missing' of storage VM uss1 is not defined$/);
});
