/** configureStorage's input from the inventory: the runbook's uss1, and the choices made where the inventory is silent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventory } from '../../inventory/load';
import { configureStorageInput } from '../../inventory/configure';
import { exampleText, withChanges } from '../helpers/inventory';

function inputFor(text: string, vm: string, reachAt?: string) {
  const result = parseInventory(text, 'inv.yaml');
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return configureStorageInput(result.inventory, vm, reachAt);
}

test("the runbook's uss1: NIC roles, hosts entries, pool, dataset and share; no secret", () => {
  const input = inputFor(exampleText, 'uss1');
  assert.deepEqual(input.network, {
    hostName: 'uss1',
    nics: [
      { address: '192.0.2.41/24', gateway: '192.0.2.1', role: 'management' },
      { address: '10.0.1.41/24', role: 'storage' },
    ],
    routes: [],
    hosts: [
      { address: '10.0.1.10', names: ['vh0-nas'] },
      { address: '10.0.1.11', names: ['vh1-nas'] },
      { address: '10.0.1.12', names: ['vh2-nas'] },
      { address: '10.0.1.13', names: ['vh3-nas'] },
      { address: '10.0.1.42', names: ['uss2'] },
    ],
  });
  assert.deepEqual(input.pool, {
    name: 'sp1',
    data: [{ kind: 'disk', disks: [{ disk: 'c8t1d0' }] }],
    log: [{ kind: 'disk', disks: [{ disk: 'c11t0d0' }] }],
    cache: [],
    spares: [],
    properties: {},
    force: false,
  });
  assert.deepEqual(input.datasets, [{
    name: 'sp1/nas/vol0',
    mountpoint: '/export/uss1-nas-vol0',
    properties: { dedup: 'on' },
    share: { rw: true, ro: [], root: ['vh3-nas', 'vh2-nas', 'vh1-nas', 'vh0-nas'], nosuid: true },
  }]);
  assert.equal(input.memoryGiB, 4);
  assert.equal(input.reachAt, undefined);
  assert.equal(input.host.storageAddress, '10.0.1.41');
  assert.deepEqual(input.host.credential, { user: 'root', privateKeyFile: '~/.ssh/esxi-zfs_ed25519', privateKeyEnv: undefined, passwordEnv: undefined, passphraseEnv: undefined });
});

test('selectors become byte ranges; devices, routes, DNS, reachAt and a third NIC pass through', () => {
  const VM = ['hosts', 1, 'storageVm'];
  const input = inputFor(withChanges([
    [[...VM, 'pool', 'data'], [{ mirror: [{ model: 'VMware Virtual disk', size: { min: '100G', max: '1.5T' } }, { serial: 'S1' }] }]],
    [[...VM, 'pool', 'cache'], [{ size: { max: '512M' } }]],
    [[...VM, 'pool', 'force'], true],
    [[...VM, 'pool', 'properties'], { ashift: '12' }],
    [[...VM, 'nics'], [
      { portGroup: 'eSAN', device: 'e1000g1', address: '10.0.1.41/24' },
      { portGroup: 'VM Network', device: 'e1000g0', address: '192.0.2.41/24', gateway: '192.0.2.1' },
      { portGroup: 'Backup', address: '172.16.5.41/24' },
    ]],
    [[...VM, 'routes'], [{ to: '172.17.0.0/16', via: '172.16.5.1' }]],
    [[...VM, 'dns'], { domain: 'example.com', servers: ['192.0.2.53'] }],
  ]), 'uss1', '192.0.2.200');
  assert.deepEqual(input.pool.data, [{ kind: 'mirror', disks: [{ model: 'VMware Virtual disk', minBytes: 100 * 2 ** 30, maxBytes: 1.5 * 2 ** 40 }, { serial: 'S1' }] }]);
  assert.deepEqual(input.pool.cache, [{ maxBytes: 512 * 2 ** 20 }]);
  assert.equal(input.pool.force, true);
  assert.deepEqual(input.pool.properties, { ashift: '12' });
  assert.deepEqual(input.network.nics.map((n) => [n.device, n.role]), [['e1000g1', 'storage'], ['e1000g0', 'management'], [undefined, 'other']]);
  assert.deepEqual(input.network.routes, [{ to: '172.17.0.0/16', via: '172.16.5.1' }]);
  assert.deepEqual(input.network.dns, { domain: 'example.com', servers: ['192.0.2.53'] });
  assert.equal(input.reachAt, '192.0.2.200');
  assert.equal(input.host.storageAddress, '10.0.1.41');
});

test('a storage VM the inventory does not have is named with the ones it has', () => {
  const result = parseInventory(exampleText, 'inv.yaml');
  assert.ok(result.ok);
  assert.throws(() => configureStorageInput(result.inventory, 'uss9'), /storage VM 'uss9' is not in the inventory \(uss1, uss2\)/);
});

test('ssh.address a host name: the management NIC is the one with the gateway, else the first', () => {
  const result = parseInventory(exampleText, 'inv.yaml');
  assert.ok(result.ok);
  const inventory = structuredClone(result.inventory);
  const uss1 = inventory.hosts.find((h) => h.storageVm?.name === 'uss1')!.storageVm!;
  uss1.ssh.address = 'uss1.example.com';
  uss1.nics.reverse();
  assert.deepEqual(configureStorageInput(inventory, 'uss1').network.nics.map((n) => [n.address, n.role]), [['10.0.1.41/24', 'storage'], ['192.0.2.41/24', 'management']]);
  delete uss1.nics[1]!.gateway;
  assert.deepEqual(configureStorageInput(inventory, 'uss1').network.nics.map((n) => [n.address, n.role]), [['10.0.1.41/24', 'management'], ['192.0.2.41/24', 'other']]);
});

test('roles and names come from the VM\'s own host: the management NIC by ssh.address even when another has the gateway; hosts without a storage network are left out', () => {
  const result = parseInventory(exampleText, 'inv.yaml');
  assert.ok(result.ok);
  const inventory = structuredClone(result.inventory);
  const uss1 = inventory.hosts.find((h) => h.storageVm?.name === 'uss1')!.storageVm!;
  uss1.nics = [{ portGroup: 'VM Network', address: '192.0.2.41/24' }, { portGroup: 'eSAN', address: '10.0.1.41/24', gateway: '10.0.1.1' }];
  delete uss1.pool.log;
  delete uss1.datasets[0]!.mountpoint;
  inventory.hosts.find((h) => h.name === 'vh0')!.storageNetwork!.portGroup = 'Other';
  const input = configureStorageInput(inventory, 'uss1');
  assert.deepEqual(input.network.nics.map((n) => n.role), ['management', 'storage']);
  assert.deepEqual(input.pool.log, []);
  assert.equal('mountpoint' in input.datasets[0]!, false);
  assert.equal('reachAt' in input, false);
  delete inventory.hosts.find((h) => h.name === 'vh0')!.storageNetwork;
  delete inventory.hosts.find((h) => h.name === 'vh1')!.storageNetwork;
  const without = configureStorageInput(inventory, 'uss1');
  assert.deepEqual(without.network.nics.map((n) => n.role), ['management', 'other']);
  assert.deepEqual(without.network.hosts.map((e) => e.names[0]), ['vh2-nas', 'vh3-nas', 'uss2']);
});
