/** The checks across sections (inventory/checks) at their edges: references, addresses, storage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRejected, assertValid, problems, withChange, withChanges } from '../helpers/inventory';
import { crossChecks, formatPath } from '../../inventory/checks';

const VM = ['hosts', 1, 'storageVm'];
const VM2 = ['hosts', 2, 'storageVm'];
const AT_VM = 'hosts[1].storageVm';

test('references: credentials, hosts, VMs and pools that must exist', () => {
  assertRejected(withChange(['vsphere', 'credentials'], 'nope'), 'vsphere.credentials', /credential "nope" is not defined under credentials \("vcenter", "storage-root"\)/);
  assertRejected(withChange(['vsphere', 'credentials'], 'storage-root'), 'vsphere.credentials', /credential "storage-root" names no passwordEnv: vSphere logs in with a user and a password/);
  assertRejected(withChange([...VM, 'ssh', 'credentials'], 'nope'), `${AT_VM}.ssh.credentials`, /credential "nope" is not defined/);
  assertRejected(withChange([...VM, 'datasets', 0, 'name'], 'sp2/nas/vol0'), `${AT_VM}.datasets[0].name`, /dataset "sp2\/nas\/vol0" is not in this VM's pool "sp1"/);
  assertRejected(withChange([...VM, 'datasets', 0, 'datastore', 'mountOn', 1], 'vh9'), `${AT_VM}.datasets[0].datastore.mountOn[1]`, /"vh9" is not an ESXi host of this inventory \("vh0", "vh1", "vh2", "vh3"\)/);
  assertRejected(withChange([...VM, 'datasets', 0, 'replicateTo', 'vm'], 'uss1'), `${AT_VM}.datasets[0].replicateTo.vm`, /another storage VM, not its own/);
  assertRejected(withChange([...VM, 'datasets', 1], { name: 'sp1/nas/vol0' }), `${AT_VM}.datasets[1].name`, /duplicate dataset "sp1\/nas\/vol0" \(first at hosts\[1\]\.storageVm\.datasets\[0\]\.name\)/);
  assertRejected(withChange(['hosts', 3, 'name'], 'vh0'), 'hosts[3].name', /duplicate host name "vh0" \(first at hosts\[0\]\.name\)/);
  assertRejected(withChange([...VM2, 'datasets', 0, 'datastore', 'name'], 'uss1-nas-vol0'), 'hosts[2].storageVm.datasets[0].datastore.name', /duplicate datastore name/);
});

test('references: a long list of names in a message is cut to five and a count', () => {
  const hosts = Array.from({ length: 40 }, (_, i) => ({ name: `h${i}` }));
  const found = crossChecks({ hosts: [...hosts, { name: 'x', storageVm: { name: 'v', datasets: [{ name: 'p/d', datastore: { name: 'd', mountOn: ['nope'] } }] } }] });
  assert.equal(found.length, 1);
  assert.match(found[0]!.message, /\("h0", "h1", "h2", "h3", "h4" and 36 more\)$/);
});

test('references: replicas on two VMs may share a name; nested replicas on one may not', () => {
  const uss3 = { name: 'uss3', os: 'linux', cpus: 1, memoryGiB: 1, nics: [{ portGroup: 'eSAN', address: '10.0.1.43/24' }],
    ssh: { address: '10.0.1.43', credentials: 'storage-root', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEOmJnOe9O64uFR6LYPe0XVt9n2mR52huPspzyqbfYm8' },
    pool: { name: 'sp2', data: [{ disk: 'c8t1d0' }] } };
  assertValid(withChanges([
    [['hosts', 3, 'storageVm'], uss3],
    [[...VM, 'datasets', 1], { name: 'sp1/nas/vol2', replicateTo: { vm: 'uss3', dataset: 'sp2/nas/vol0' } }],
  ]));
  const nested = withChanges([
    [[...VM, 'datasets', 1], { name: 'sp1/nas/vol2', replicateTo: { vm: 'uss2', dataset: 'sp2/nas/vol0/a/b' } }],
    [[...VM, 'datasets', 2], { name: 'sp1/nas/vol3', replicateTo: { vm: 'uss2', dataset: 'sp2/nas/vol0-x' } }],
  ]);
  const found = problems(nested).filter((p) => /replica/.test(p.message));
  assert.deepEqual(found.map((p) => p.path), [`${AT_VM}.datasets[1].replicateTo.dataset`], JSON.stringify(found));
});

test('addresses: network and broadcast by prefix length; /31 and /32 have neither', () => {
  assertRejected(withChange([...VM, 'nics', 1, 'address'], '10.0.1.4/30'), `${AT_VM}.nics[1].address`, /network address of its subnet 10\.0\.1\.4\/30/);
  assertRejected(withChange([...VM, 'nics', 1, 'address'], '10.0.1.7/30'), `${AT_VM}.nics[1].address`, /broadcast address of its subnet 10\.0\.1\.4\/30/);
  assertValid(withChange([...VM, 'nics', 1, 'address'], '10.0.1.5/30'));
  assertValid(withChange([...VM, 'nics', 1, 'address'], '10.0.1.7/31'));
  assertValid(withChange([...VM, 'nics', 1, 'address'], '10.0.1.255/32'));
  assertRejected(withChange(['hosts', 1, 'storageNetwork', 'vmkernel', 'address'], '10.0.1.0/24'), 'hosts[1].storageNetwork.vmkernel.address', /the VMkernel address is the network address/);
  assertRejected(withChange([...VM, 'nics', 0, 'gateway'], '192.0.2.0'), `${AT_VM}.nics[0].gateway`, /the network address of this NIC's subnet/);
  assertValid(withChange([...VM, 'nics', 0, 'gateway'], '192.0.2.254'));
  assertRejected(withChange([...VM, 'nics', 0, 'gateway'], '192.0.3.1'), `${AT_VM}.nics[0].gateway`, /outside this NIC's subnet 192\.0\.2\.0\/24/);
  assertRejected(withChange([...VM, 'nics', 1, 'address'], '192.0.2.41/24'), `${AT_VM}.nics[1].address`, /192\.0\.2\.41 is already given to hosts\[1\]\.storageVm\.nics\[0\]\.address/);
  assertValid(withChanges([[[...VM, 'nics', 0, 'address'], '0.0.0.1/0'], [[...VM, 'nics', 0, 'gateway'], '255.255.255.254'], [[...VM, 'ssh', 'address'], '0.0.0.1']]));
});

test('storage: mountpoints compared as ZFS mounts them (a trailing slash, inheritance, the default /name)', () => {
  assertRejected(withChange([...VM, 'datasets', 1], { name: 'sp1/b', mountpoint: '/export/uss1-nas-vol0/' }), `${AT_VM}.datasets[1].mountpoint`, /duplicate mountpoint/);
  const byDefault = withChanges([[[...VM, 'datasets', 1], { name: 'sp1/c' }], [[...VM, 'datasets', 2], { name: 'sp1/b', mountpoint: '/sp1/c' }]]);
  assertRejected(byDefault, `${AT_VM}.datasets[2].mountpoint`, /duplicate mountpoint "\/sp1\/c"/);
  const nearest = withChanges([
    [[...VM, 'datasets', 1], { name: 'sp1/a', mountpoint: '/export/a' }],
    [[...VM, 'datasets', 2], { name: 'sp1/a/b', mountpoint: '/export/b' }],
    [[...VM, 'datasets', 3], { name: 'sp1/a/b/c' }],
    [[...VM, 'datasets', 4], { name: 'sp1/x', mountpoint: '/export/b/c' }],
  ]);
  assertRejected(nearest, `${AT_VM}.datasets[4].mountpoint`, /duplicate mountpoint "\/export\/b\/c"/);
  assertValid(withChanges([[[...VM, 'datasets', 1], { name: 'sp1/a', mountpoint: '/export/a' }], [[...VM, 'datasets', 2], { name: 'sp1/a/b' }]]));
});

test('storage: the snapshot suffix counts the configured prefix', () => {
  const name = `sp1/${'a'.repeat(220)}`;
  assertValid(withChange([...VM, 'datasets', 0, 'name'], name));
  assertRejected(withChanges([[[...VM, 'datasets', 0, 'name'], name], [['replication', 'snapshotPrefix'], 'p'.repeat(20)]]), `${AT_VM}.datasets[0].name`, /224-character name.*@pppppppppppppppppppp_YYYYMMDDTHHMMSSZ.*at most 217/);
  assertValid(withChanges([[[...VM, 'datasets', 0, 'name'], name], [['replication', 'snapshotPrefix'], 'p'.repeat(13)]]));
  assertValid(withChange([...VM, 'datasets', 1], { name: `sp1/${'b'.repeat(240)}` }));
});

test('storage: cache and log disks count against the data disks', () => {
  assertRejected(withChange([...VM, 'pool', 'cache'], [{ disk: 'c11t0d0' }]), `${AT_VM}.pool.cache[0].disk`, /duplicate disk .* \(first at hosts\[1\]\.storageVm\.pool\.log\[0\]\.disk\)/);
  assertValid(withChange([...VM, 'pool', 'cache'], [{ model: 'SSD' }, { disk: 'c12t0d0' }]));
});

test('paths print unusual keys quoted, so a key cannot pass for nesting', () => {
  assert.equal(formatPath(['hosts', 1, 'storageVm', 'name']), 'hosts[1].storageVm.name');
  assert.equal(formatPath(['credentials', 'storage-root', 'user']), 'credentials.storage-root.user');
  assert.equal(formatPath(['credentials', 'a.b[0]', 'user']), 'credentials["a.b[0]"].user');
  assert.equal(formatPath(['x y']), '["x y"]');
  assert.equal(formatPath([]), '');
});

test('checks read a malformed document without throwing, and report only what they can check', () => {
  const hostile = {
    credentials: 'x',
    hosts: [null, 'vh', 7, { name: 5 }, { name: 'a', storageVm: 'x' },
      { name: 'b', storageVm: { name: 'v', pool: { name: 'p', data: [null, 'x', { disk: 5 }] }, nics: [null, { address: 7 }, { address: 'x' }],
        datasets: [null, 'x', { name: 5 }, { name: 'p/d', datastore: 'x', replicateTo: 'x' }, { name: 'p/e', datastore: { mountOn: 'x' }, replicateTo: { vm: 5 } }] } }],
  };
  assert.deepEqual(crossChecks(hostile), []);
  assert.deepEqual(crossChecks(null), []);
  assert.deepEqual(crossChecks(['x']), []);
});

test('nested replicas are found whatever order the datasets come in, and "/" sorts before any character', () => {
  const VM_ = ['hosts', 1, 'storageVm'];
  const order = withChanges([
    [[...VM_, 'datasets', 0, 'replicateTo', 'dataset'], 'sp2/r/a/b'],
    [[...VM_, 'datasets', 1], { name: 'sp1/x', replicateTo: { vm: 'uss2', dataset: 'sp2/r-b' } }],
    [[...VM_, 'datasets', 2], { name: 'sp1/y', replicateTo: { vm: 'uss2', dataset: 'sp2/r' } }],
  ]);
  const found = problems(order).filter((p) => /replica/.test(p.message));
  assert.deepEqual(found.map((p) => [p.path, p.message]), [[
    'hosts[1].storageVm.datasets[0].replicateTo.dataset',
    'replication target uss2:"sp2/r/a/b" is inside another replica, "sp2/r" (at hosts[1].storageVm.datasets[2].replicateTo.dataset)',
  ]]);
});

test('a replication target already wrong is not counted again as a duplicate', () => {
  const VM_ = ['hosts', 1, 'storageVm'];
  const twice = withChanges([
    [[...VM_, 'datasets', 0, 'replicateTo', 'dataset'], 'sp9/x'],
    [[...VM_, 'datasets', 1], { name: 'sp1/y', replicateTo: { vm: 'uss2', dataset: 'sp9/x' } }],
  ]);
  const found = problems(twice).filter((p) => p.path.endsWith('replicateTo.dataset'));
  assert.deepEqual(found.map((p) => p.message), ['"sp9/x" is not in uss2\'s pool "sp2"', '"sp9/x" is not in uss2\'s pool "sp2"']);
});

test('raw readers and duplicates: what counts as an object, a string, a case-blind duplicate', async () => {
  const { obj, arr, str, poolOf, duplicates } = await import('../../inventory/checks/raw');
  for (const v of [null, undefined, 0, 'x', [], [1], true]) assert.equal(obj(v), undefined, JSON.stringify(v));
  assert.deepEqual(obj({ a: 1 }), { a: 1 });
  assert.deepEqual(arr('x'), []);
  assert.deepEqual(arr([1]), [1]);
  assert.equal(str(5), undefined);
  assert.equal(str(''), '');
  assert.equal(poolOf('sp1/a/b'), 'sp1');
  assert.equal(poolOf(''), '');
  const entries = [{ value: 'sp1/A', path: ['a'] }, { value: 'sp1/a', path: ['b'] }];
  assert.deepEqual(duplicates(entries, 'dataset'), [], 'case matters unless asked');
  assert.match(duplicates(entries, 'dataset', true)[0]!.message, /dataset "sp1\/a" differs from "sp1\/A" \(at a\) only in case/);
  assert.equal(formatPath(['1a']), '["1a"]');
  assert.equal(formatPath(['a', 'b.c']), 'a["b.c"]');
  assert.equal(formatPath(['a', '-x']), 'a["-x"]');
  assert.equal(formatPath(['_a-1', 0, 'b']), '_a-1[0].b');
});

test('storage VMs are read only where host and VM are objects', () => {
  assert.deepEqual(crossChecks({ hosts: [{ name: 'a', storageVm: { name: 'v', pool: 'x', datasets: [{ name: 'p/d', replicateTo: { vm: 'v', dataset: 'p/e' } }] } }] }).map((f) => f.message),
    ['a dataset must replicate to another storage VM, not its own']);
});
