/**
 * What configureStorage reads from the inventory: disks chosen by name or by what they report,
 * vdev layouts, spares and force; NIC devices, routes and the management NIC; share clients that
 * must resolve on the storage VM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventory } from '../../inventory/load';
import { buildPlan } from '../../inventory/plan';
import { sizeBytes } from '../../inventory/schema';
import { assertRejected, assertValid, problems, withChange, withChanges } from '../helpers/inventory';

const VM = ['hosts', 1, 'storageVm'];
const AT_VM = 'hosts[1].storageVm';
const POOL = [...VM, 'pool'];
const AT_POOL = `${AT_VM}.pool`;
const SHARE = [...VM, 'datasets', 0, 'share'];
const AT_SHARE = `${AT_VM}.datasets[0].share`;

function poolLine(text: string): string {
  const result = parseInventory(text, 'inv.yaml');
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return buildPlan(result.inventory).hosts[1]!.storageVm!.pool;
}

test('sizes are binary units', () => {
  assert.equal(sizeBytes('512M'), 512 * 2 ** 20);
  assert.equal(sizeBytes('1.5T'), 1.5 * 2 ** 40);
  assert.equal(sizeBytes('2K'), 2048);
  assert.equal(sizeBytes('1P'), 2 ** 50);
  assert.equal(sizeBytes('3G'), 3 * 2 ** 30);
});

test('a disk by model, serial or size range; the plan shows how each is chosen', () => {
  const text = withChanges([
    [[...POOL, 'data'], [{ mirror: [{ model: 'VMware Virtual disk', size: { min: '100G', max: '200G' } }, { serial: '6000c29a:01' }] }]],
    [[...POOL, 'log'], [{ mirror: [{ model: 'DDRDRIVE-X1' }, { disk: 'c11t1d0' }] }]],
    [[...POOL, 'cache'], [{ size: { min: '400G' } }]],
    [[...POOL, 'spares'], [{ disk: 'c8t9d0' }]],
    [[...POOL, 'force'], true],
  ]);
  assert.equal(
    poolLine(text),
    'sp1 mirror (model VMware Virtual disk, size >=100G <=200G) (serial 6000c29a:01) log mirror (model DDRDRIVE-X1) c11t1d0 cache (size >=400G) spare c8t9d0',
  );
  assertValid(withChange([...POOL, 'data'], [{ raidz2: [{ disk: 'c8t1d0' }, { disk: 'c8t2d0' }, { disk: 'c8t3d0' }] }, { raidz2: [{ disk: 'c8t4d0' }, { disk: 'c8t5d0' }, { disk: 'c8t6d0' }] }]));
});

test('a selector names a disk exactly or by what it reports, not both, not neither; a size range is ordered', () => {
  assertRejected(withChange([...POOL, 'data', 0], { disk: 'c8t1d0', model: 'X' }), `${AT_POOL}.data[0]`, /either exactly \(disk\) or by what it reports/);
  assertRejected(withChange([...POOL, 'cache'], [{}]), `${AT_POOL}.cache[0]`, /choose a disk by disk/);
  assertRejected(withChange([...POOL, 'data', 0], { size: {} }), `${AT_POOL}.data[0].size`, /give min, max or both/);
  assertRejected(withChange([...POOL, 'data', 0], { size: { min: '2T', max: '1T' } }), `${AT_POOL}.data[0].size`, /min 2T is larger than max 1T/);
  assertValid(withChange([...POOL, 'data', 0], { size: { min: '1T', max: '1T' } }));
  assertRejected(withChange([...POOL, 'data', 0], { size: { min: '100 G' } }), `${AT_POOL}.data[0].size.min`, /a size like 512M/);
  assertRejected(withChange([...POOL, 'data', 0], { size: { min: '100GB' } }), `${AT_POOL}.data[0].size.min`, /binary units/);
  const huge = withChange([...POOL, 'data', 0], { size: { min: '9P', max: '8P' } });
  assert.match(assertRejected(huge, `${AT_POOL}.data[0].size.min`, /below 8P/).message, /^a size below 8P \(8192T\)$/);
  assertRejected(huge, `${AT_POOL}.data[0].size.max`, /^a size below 8P \(8192T\)$/);
  assertValid(withChange([...POOL, 'data', 0], { size: { min: '7.999P' } }));
  // Was an exception ("not a size") out of the order check, not a problem.
  const malformed = problems(withChange([...POOL, 'data', 0], { size: { min: '100 G', max: '1T' } }));
  assert.deepEqual(malformed.map((p) => [p.path, p.message]), [[`${AT_POOL}.data[0].size.min`, 'a size like 512M, 100G or 1.5T (binary units K M G T P)']]);
});

test('sizeBytes is only for sizes the schema took', () => {
  assert.throws(() => sizeBytes('8P'), { message: 'not a byteSize: "8P"' });
});

test('a vdev is one disk or one group with enough disks; data vdevs are of one kind; a log is a disk or a mirror', () => {
  assertRejected(withChange([...POOL, 'data', 0], { mirror: [{ disk: 'c8t1d0' }] }), `${AT_POOL}.data[0].mirror`, /a mirror needs at least 2 disks/);
  assertRejected(withChange([...POOL, 'data', 0], { raidz2: [{ disk: 'c8t1d0' }, { disk: 'c8t2d0' }] }), `${AT_POOL}.data[0].raidz2`, /at least 3/);
  assertRejected(withChange([...POOL, 'data', 0], { raidz3: [{ disk: 'c8t1d0' }, { disk: 'c8t2d0' }, { disk: 'c8t3d0' }] }), `${AT_POOL}.data[0].raidz3`, /at least 4/);
  assertValid(withChange([...POOL, 'data', 0], { raidz: [{ disk: 'c8t1d0' }, { disk: 'c8t2d0' }] }));
  assertRejected(
    withChange([...POOL, 'data', 0], { mirror: [{ disk: 'c8t1d0' }, { disk: 'c8t2d0' }], raidz: [{ disk: 'c8t3d0' }, { disk: 'c8t4d0' }] }),
    `${AT_POOL}.data[0]`,
    /one disk or one group .* not mirror and raidz/,
  );
  assertRejected(withChange([...POOL, 'data', 0], { mirror: [{ disk: 'c8t1d0' }, { disk: 'c8t2d0' }], disk: 'c8t3d0' }), `${AT_POOL}.data[0]`, /not mirror and disk/);
  assertRejected(
    withChange([...POOL, 'data'], [{ disk: 'c8t1d0' }, { mirror: [{ disk: 'c8t2d0' }, { disk: 'c8t3d0' }] }]),
    `${AT_POOL}.data`,
    /one kind only .*disk, mirror/,
  );
  assertRejected(withChange([...POOL, 'log', 0], { raidz: [{ disk: 'c11t0d0' }, { disk: 'c11t1d0' }] }), `${AT_POOL}.log[0].raidz`, /a log vdev is one disk or a mirror/);
  assertRejected(withChange([...POOL, 'cache', 0], { mirror: [{ disk: 'c9t0d0' }, { disk: 'c9t1d0' }] }), `${AT_POOL}.cache[0]`, /cache and spare devices are single disks, not a mirror/);
  assertRejected(withChange([...POOL, 'force'], 'yes'), `${AT_POOL}.force`, /boolean/);
});

test('one disk in one place: inside groups, logs, cache and spares', () => {
  assertRejected(withChange([...POOL, 'log'], [{ mirror: [{ disk: 'c11t0d0' }, { disk: 'c8t1d0' }] }]), `${AT_POOL}.log[0].mirror[1].disk`, /duplicate disk/);
  assertRejected(withChange([...POOL, 'spares'], [{ disk: 'c11t0d0' }]), `${AT_POOL}.spares[0].disk`, /duplicate disk/);
  assertRejected(withChange([...POOL, 'data', 0], { mirror: [{ disk: 'c8t1d0' }, { disk: '/dev/../etc/shadow' }] }), `${AT_POOL}.data[0].mirror[1].disk`, /'\.\.' components/);
});

test('NICs: devices once each, interface grammar, one default gateway, ssh on a NIC, routes through a neighbour', () => {
  assertValid(withChanges([[[...VM, 'nics', 0, 'device'], 'e1000g0'], [[...VM, 'nics', 1, 'device'], 'e1000g1']]));
  assertRejected(withChanges([[[...VM, 'nics', 0, 'device'], 'e1000g0'], [[...VM, 'nics', 1, 'device'], 'e1000g0']]), `${AT_VM}.nics[1].device`, /duplicate interface/);
  assertRejected(withChange([...VM, 'nics', 0, 'device'], 'eth0:1 up'), `${AT_VM}.nics[0].device`, /an interface name starts with a letter/);
  assertRejected(withChange([...VM, 'nics', 0, 'device'], 'averyveryverylong0'), `${AT_VM}.nics[0].device`, /at most 15/);
  assertRejected(withChange([...VM, 'nics', 1, 'gateway'], '10.0.1.1'), `${AT_VM}.nics[1].gateway`, /a second default gateway \(nics\[0\] has one\)/);
  assertRejected(withChange([...VM, 'ssh', 'address'], '192.0.2.99'), `${AT_VM}.ssh.address`, /not the address of any of this VM's nics/);
  assertValid(withChange([...VM, 'ssh', 'address'], 'uss1.example.com'));
  assertValid(withChange([...VM, 'routes'], [{ to: '10.9.0.0/16', via: '10.0.1.1' }]));
  assertRejected(withChange([...VM, 'routes'], [{ to: '10.9.0.0/16', via: '172.16.0.1' }]), `${AT_VM}.routes[0].via`, /on none of this VM's NIC subnets/);
});

test('share clients resolve: a host\'s storage name (default <host>-nas, or vmkernel.hostName), or the VM has DNS', () => {
  assertValid(withChange([...SHARE, 'rw'], ['vh1-nas', 'vh2-nas']));
  assertValid(withChange([...SHARE, 'ro'], ['VH0-NAS']));
  assertRejected(withChange([...SHARE, 'root', 0], 'vh9-nas'), `${AT_SHARE}.root[0]`, /"vh9-nas" resolves nowhere: it is no host's storage network name \("vh0-nas", "vh1-nas", "vh2-nas", "vh3-nas"\)/);
  assertRejected(withChange([...SHARE, 'ro'], ['nas-client']), `${AT_SHARE}.ro[0]`, /resolves nowhere/);
  assertValid(withChanges([[[...SHARE, 'ro'], ['nas-client']], [[...VM, 'dns'], { domain: 'example.com', servers: ['192.0.2.53'] }]]));
  const HOST2_SHARE = ['hosts', 2, 'storageVm', 'datasets', 0, 'share'];
  assertValid(withChanges([[['hosts', 1, 'storageNetwork', 'vmkernel', 'hostName'], 'esxi1-storage'], [[...SHARE, 'root'], ['esxi1-storage']], [[...HOST2_SHARE, 'root'], ['esxi1-storage', 'vh2-nas']]]));
  assertRejected(withChange(['hosts', 1, 'storageNetwork', 'vmkernel', 'hostName'], 'esxi1-storage'), `${AT_SHARE}.root[2]`, /"vh1-nas" resolves nowhere/);
  assertRejected(withChange(['hosts', 1, 'storageNetwork', 'vmkernel', 'hostName'], 'VH2-nas'), 'hosts[2].name', /storage network name "vh2-nas" differs from "VH2-nas" .* only in case/);
  assertRejected(withChange(['hosts', 1, 'storageNetwork', 'vmkernel', 'hostName'], 'vh2-nas'), 'hosts[2].name', /duplicate storage network name/);
  assertRejected(withChange([...SHARE, 'rw'], []), `${AT_SHARE}.rw`, /an empty rw list lets no one write/);
});
