/**
 * The zod schema (inventory/schema.ts) field by field on a small inventory object: each grammar's
 * accepted and refused values, its limits on both sides of each boundary, the exact message and
 * path of each refusal, and the defaults it fills in. No YAML and no files: mutation testing runs
 * this file once per mutant of the schema, most of which change it while the module loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inventorySchema, sizeBytes, vdevKind, type VdevValue } from '../../inventory/schema';

type Path = (string | number)[];
const VM: Path = ['hosts', 0, 'storageVm'];
const POOL: Path = [...VM, 'pool'];
const DATASET: Path = [...VM, 'datasets', 0];
const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEOmJnOe9O64uFR6LYPe0XVt9n2mR52huPspzyqbfYm8';

function base(): Record<string, unknown> {
  return {
    apiVersion: 'esxi-zfs/v1',
    credentials: { root: { user: 'root', privateKeyFile: '/keys/id' } },
    hosts: [{
      name: 'vh1',
      storageVm: {
        name: 'uss1', os: 'illumos', cpus: 2, memoryGiB: 4,
        nics: [{ portGroup: 'VM Network', address: '192.0.2.41/24' }],
        ssh: { address: '192.0.2.41', credentials: 'root', hostKey: HOST_KEY },
        pool: { name: 'sp1', data: [{ disk: 'c8t1d0' }] },
        datasets: [{ name: 'sp1/nas' }],
      },
    }],
  };
}

/** The inventory with `value` at `path` (intermediate objects made as needed; undefined deletes). */
function withValue(path: Path, value: unknown): Record<string, unknown> {
  const inventory = base();
  let node = inventory as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) {
    node[step] ??= {};
    node = node[step] as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return inventory;
}

/** Each problem as `path: message` (a record key's problem with the key's own message). */
function problemsOf(inventory: unknown): string[] {
  const result = inventorySchema.safeParse(inventory);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const message = issue.code === 'invalid_key' ? issue.issues[0]!.message : issue.message;
    return `${issue.path.join('.')}: ${message}`;
  });
}

const problems = (path: Path, value: unknown) => problemsOf(withValue(path, value));

function accepts(path: Path, ...values: unknown[]): void {
  for (const value of values) assert.deepEqual(problems(path, value), [], `${path.join('.')} = ${JSON.stringify(value)}`);
}

/** Each value gives exactly this one problem, at `at` (the field itself unless said). */
function refuses(path: Path, values: unknown[], message: string, at: Path = path): void {
  for (const value of values) assert.deepEqual(problems(path, value), [`${at.join('.')}: ${message}`], `${path.join('.')} = ${JSON.stringify(value)}`);
}

function parsed(path: Path, value: unknown): Record<string, unknown> {
  const result = inventorySchema.safeParse(withValue(path, value));
  assert.ok(result.success, JSON.stringify(result.error?.issues));
  return result.data as unknown as Record<string, unknown>;
}

const tooSmall = (n: number) => `Too small: expected number to be >=${n}`;
const tooBig = (n: number) => `Too big: expected number to be <=${n}`;
const fewerItems = (n: number) => `Too small: expected array to have >=${n} items`;
const moreItems = (n: number) => `Too big: expected array to have <=${n} items`;

test('the base inventory is valid, and the defaults are filled in', () => {
  assert.deepEqual(problemsOf(base()), []);
  const inventory = parsed(['hosts', 0, 'passthrough'], { device: { address: '0000:05:00.0' } });
  assert.deepEqual(inventory.replication, {
    user: 'zfsadm', allowSystemUser: false, snapshotPrefix: 'esxi-zfs', stallTimeout: '120s',
    sshCiphers: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes256-ctr'],
  });
  const host = (inventory.hosts as Record<string, Record<string, unknown>>[])[0]!;
  assert.deepEqual(host.passthrough, { device: { address: '0000:05:00.0' }, rebootTimeout: '30m', maintenanceMode: true, runningVms: 'refuse' });
  assert.deepEqual((host.storageVm!.pool as Record<string, unknown>).force, false);
  const shared = parsed(DATASET, { name: 'sp1/nas', share: {}, datastore: { name: 'ds1', mountOn: ['vh1'] } });
  const dataset = ((shared.hosts as Record<string, Record<string, Record<string, unknown>[]>>[])[0]!.storageVm!.datasets)[0]!;
  assert.deepEqual(dataset.share, { rw: true, nosuid: true, root: [] });
  assert.deepEqual(dataset.datastore, { name: 'ds1', mountOn: ['vh1'], nfs: '3', access: 'readWrite' });
  const noDatasets = parsed([...VM, 'datasets'], undefined);
  assert.deepEqual((noDatasets.hosts as Record<string, Record<string, unknown>>[])[0]!.storageVm!.datasets, []);
});

test('top level: apiVersion, hosts, unknown keys', () => {
  refuses(['apiVersion'], ['esxi-zfs/v2', ''], 'Invalid input: expected "esxi-zfs/v1"');
  refuses(['hosts'], [[]], 'name at least one ESXi host');
  refuses(['extra'], [1], 'Unrecognized key: "extra"', []);
});

test('credentials: names, environment variables, one way to the secret, no inline secret', () => {
  const C: Path = ['credentials', 'root'];
  const nameMessage = 'credential names use letters, digits, _ . - (at most 64)';
  accepts(['vsphere'], { url: 'https://vc.example/sdk', credentials: 'root' });
  for (const name of ['a', 'A', '0', 'a_b.c-d', 'x'.repeat(64)]) {
    assert.deepEqual(problemsOf({ ...base(), credentials: { [name]: { user: 'root', privateKeyFile: '/k' } }, hosts: [{ name: 'vh1' }] }), [], name);
  }
  for (const name of ['', '-a', '_a', '.a', 'a b', 'a/b', 'x'.repeat(65), 'a\n']) {
    assert.deepEqual(problemsOf({ ...base(), credentials: { [name]: { user: 'root', privateKeyFile: '/k' } }, hosts: [{ name: 'vh1' }] }), [`credentials.${name}: ${nameMessage}`], name);
  }
  for (const bad of ['a!', 'x'.repeat(65), '-a']) {
    assert.deepEqual(problemsOf(withValue(['vsphere'], { url: 'https://vc.example/sdk', credentials: bad })), [`vsphere.credentials: ${nameMessage}`], bad);
  }
  refuses([...VM, 'ssh', 'credentials'], ['a b'], nameMessage);

  const envMessage = 'must be an environment variable name (letters, digits, _)';
  for (const key of ['privateKeyEnv', 'passwordEnv']) {
    accepts([...C, key], undefined);
    accepts(['credentials', 'root'], { user: 'root', [key]: 'A' }, { user: 'root', [key]: '_x9' }, { user: 'root', [key]: `a${'B'.repeat(127)}` });
    assert.deepEqual(problemsOf(withValue(C, { user: 'root', [key]: '' })), [`credentials.root.${key}: ${envMessage}`, 'credentials.root: name one of privateKeyFile, privateKeyEnv or passwordEnv']);
    for (const bad of ['9x', 'x-', 'a b', `a${'B'.repeat(128)}`, 'x$']) {
      assert.deepEqual(problemsOf(withValue(C, { user: 'root', [key]: bad })), [`credentials.root.${key}: ${envMessage}`], `${key} ${bad}`);
    }
  }
  refuses([...C, 'passphraseEnv'], ['1'], envMessage);
  accepts([...C, 'passphraseEnv'], 'KEY_PASS');

  refuses(C, [{ user: 'root' }], 'name one of privateKeyFile, privateKeyEnv or passwordEnv');
  refuses(C, [{ user: 'root', privateKeyFile: '/k', privateKeyEnv: 'K' }], 'name the key once: privateKeyFile or privateKeyEnv, not both', [...C, 'privateKeyEnv']);
  refuses(C, [{ user: 'root', passwordEnv: 'P', passphraseEnv: 'Q' }], 'a passphrase belongs to a key: name it with privateKeyFile or privateKeyEnv', [...C, 'passphraseEnv']);
  accepts(C, { user: 'root', privateKeyEnv: 'K', passphraseEnv: 'Q' }, { user: 'root', privateKeyFile: '/k', passphraseEnv: 'Q' }, { user: 'root', passwordEnv: 'P', privateKeyFile: '/k' });
  refuses([...C, 'password'], ['x', 0, false, null], 'a secret must not be written inline; name it with passwordEnv instead');
  for (const key of ['privateKey', 'passphrase', 'secret', 'token']) {
    refuses([...C, key], ['x', 0], 'a secret must not be written inline; name it with privateKeyFile or privateKeyEnv instead');
  }
  refuses([...C, 'other'], ['x'], 'Unrecognized key: "other"', C);
});

test('vsphere: thumbprint of SHA-1 or SHA-256, hex pairs', () => {
  const T: Path = ['vsphere'];
  const vsphere = (thumbprint: string) => ({ url: 'https://vc.example/sdk', credentials: 'root', thumbprint });
  const pairs = (n: number, pair = 'aB') => Array.from({ length: n }, () => pair).join(':');
  accepts(T, vsphere(pairs(20)), vsphere(pairs(32, '09')), vsphere(pairs(21, 'Ff')));
  const message = 'must be a SHA-1 or SHA-256 certificate thumbprint (hex pairs separated by ":")';
  for (const bad of [pairs(19), pairs(33), `${pairs(19)}:a`, `${pairs(19)}:abc`, `${pairs(19)}:gg`, `${pairs(20)}:`, `:${pairs(20)}`, `x${pairs(20)}`, `${pairs(20)}x`, pairs(20).replaceAll(':', '-')]) {
    assert.deepEqual(problemsOf(withValue(T, vsphere(bad))), [`vsphere.thumbprint: ${message}`], bad);
  }
});

test('replication: user and system accounts, prefix, stall timeout, ciphers, retry', () => {
  const R: Path = ['replication'];
  const system = ['root', 'daemon', 'bin', 'sys', 'adm', 'lp', 'uucp', 'nuucp', 'smmsp', 'listen', 'sync', 'games', 'man', 'mail',
    'news', 'proxy', 'www-data', 'backup', 'list', 'irc', 'gnats', 'nobody', 'noaccess', 'nobody4', 'sshd', 'operator',
    'halt', 'shutdown', 'postgres', 'webservd', 'svctag', 'dladm', 'netadm', 'netcfg', 'messagebus', 'systemd-network',
    'systemd-resolve', 'systemd-timesync', '_apt', 'ftp', 'zfssnap', 'upnp', 'xvm', 'openldap', 'unknown'];
  for (const user of system) {
    refuses(R, [{ user }], `${user} is an account of the OS itself: use an account of its own (like zfsadm), or set allowSystemUser: true if you mean it`, [...R, 'user']);
    accepts(R, { user, allowSystemUser: true });
  }
  accepts(R, { user: 'zfsadm' }, { user: 'backup2' }, { user: 'rootx' }, { user: 'zfsadm', allowSystemUser: false });

  const prefix = 'prefix uses letters, digits, . _ - (at most 64)';
  accepts([...R, 'snapshotPrefix'], 'a', 'Z9', '0a._-', 'p'.repeat(64));
  refuses([...R, 'snapshotPrefix'], ['', '-a', '.a', '_a', 'a b', 'a@b', 'p'.repeat(65), 'a/b'], prefix);

  accepts([...R, 'stallTimeout'], '10s', '1d', '24h');
  assert.equal(problems([...R, 'stallTimeout'], '9s').length, 1);
  assert.equal(problems([...R, 'stallTimeout'], '25h').length, 1);

  const C: Path = [...R, 'sshCiphers'];
  const strong = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'];
  accepts(C, strong, ['aes192-ctr']);
  for (const cipher of strong) accepts(C, [cipher]);
  refuses(C, [['aes128-cbc'], ['none'], ['3des-cbc'], ['']], `an OpenSSH cipher with integrity and no known weakness: ${strong.join(', ')}`, [...C, 0]);
  refuses(C, [[]], fewerItems(1));
  refuses(C, [[...strong, 'aes128-ctr']], moreItems(6));

  const retry = (r: object) => [{ retry: r }];
  accepts(R, ...retry({ maximumAttempts: 1 }), ...retry({ maximumAttempts: 100 }), ...retry({}));
  refuses(R, retry({ maximumAttempts: 0 }), tooSmall(1), [...R, 'retry', 'maximumAttempts']);
  refuses(R, retry({ maximumAttempts: 101 }), tooBig(100), [...R, 'retry', 'maximumAttempts']);
  accepts(R, ...retry({ initialInterval: '1s', maximumInterval: '1s' }), ...retry({ initialInterval: '1h', maximumInterval: '1d' }));
  accepts(R, ...retry({ initialInterval: '1h' }), ...retry({ maximumInterval: '1s' }));
  refuses(R, retry({ initialInterval: '2s', maximumInterval: '1s' }), 'must not be shorter than initialInterval', [...R, 'retry', 'maximumInterval']);
  refuses(R, retry({ initialInterval: '61m', maximumInterval: '1d' }), problems([...R, 'retry', 'initialInterval'], '61m')[0]!.replace(/^[^:]*: /, ''), [...R, 'retry', 'initialInterval']);
  assert.equal(problems([...R, 'retry', 'maximumInterval'], '25h').length, 1);
  assert.equal(problems([...R, 'retry', 'initialInterval'], '0s').length, 1);
});

test('replication policy: schedule, catch-up window, send options, retention', () => {
  const R: Path = ['replication'];
  accepts([...R, 'schedule'], { cron: '59 23 * * *', timezone: 'UTC' }, { cron: '0 * * * *', timezone: 'UTC', catchupWindow: '10s', paused: true });
  accepts([...R, 'schedule'], { cron: '0 * * * *', timezone: 'UTC', catchupWindow: '365d' });
  assert.equal(problems([...R, 'schedule'], { cron: '0 * * * *', timezone: 'UTC', catchupWindow: '9s' }).length, 1);
  assert.equal(problems([...R, 'schedule'], { cron: '0 * * * *', timezone: 'UTC', catchupWindow: '366d' }).length, 1);
  refuses([...R, 'schedule'], [{ cron: '0 * * * *', timezone: 'UTC', paused: 'yes' }], 'Invalid input: expected boolean, received string', [...R, 'schedule', 'paused']);

  accepts([...R, 'send'], ['properties', 'dedup', 'compressed', 'largeBlocks', 'embedded', 'raw'], []);
  refuses([...R, 'send'], [['replicate']], 'Invalid option: expected one of "properties"|"dedup"|"compressed"|"largeBlocks"|"embedded"|"raw"', [...R, 'send', 0]);

  const T: Path = [...R, 'retention'];
  accepts(T, { keep: 1 }, { hourly: 1 }, { daily: 1 }, { weekly: 1 }, { monthly: 1 }, { keep: 10_000, hourly: 0 }, { hourly: 10_000 });
  const nothing = 'these rules keep nothing: give keep or a period count of at least 1, or leave retention out to keep every snapshot';
  refuses(T, [{}, { hourly: 0, daily: 0, weekly: 0, monthly: 0 }], nothing);
  for (const key of ['hourly', 'daily', 'weekly', 'monthly']) {
    assert.deepEqual(problems(T, { keep: 1, [key]: -1 }), [`replication.retention.${key}: ${tooSmall(0)}`]);
    assert.deepEqual(problems(T, { keep: 1, [key]: 10_001 }), [`replication.retention.${key}: ${tooBig(10_000)}`]);
    assert.deepEqual(problems(T, { keep: 1, [key]: 1.5 }), [`replication.retention.${key}: Invalid input: expected int, received number`]);
  }
  assert.deepEqual(problems(T, { keep: 0, daily: 1 }), [`replication.retention.keep: ${tooSmall(1)}`]);
  assert.deepEqual(problems(T, { keep: 10_001 }), [`replication.retention.keep: ${tooBig(10_000)}`]);
  accepts([...R, 'rollback'], true);
  accepts([...R, 'recursive'], false);
  accepts([...R, 'intermediates'], true);
});

test('disks: selectors, sizes, groups and their minimums, cache and spares', () => {
  const D: Path = [...POOL, 'data'];
  const size = 'a size like 512M, 100G or 1.5T (binary units K M G T P)';
  for (const s of ['1K', '512M', '100G', '1.5T', '2P', '1234567G', '1.123T', '0.5M']) accepts(D, [{ size: { min: s } }]);
  for (const s of ['', 'K', '1', '1B', '1k', '12345678G', '1.1234T', '1.T', '.5T', '1.5', '1 T', 'x1T', '1Tx']) {
    assert.deepEqual(problems(D, [{ size: { min: s } }]), [`${[...D, 0, 'size', 'min'].join('.')}: ${size}`], s);
  }
  refuses(D, [[{ size: {} }]], 'give min, max or both', [...D, 0, 'size']);
  accepts(D, [{ size: { min: '1T', max: '1T' } }], [{ size: { min: '1023G', max: '1T' } }], [{ size: { max: '1T' } }]);
  refuses(D, [[{ size: { min: '1025G', max: '1T' } }]], 'min 1025G is larger than max 1T', [...D, 0, 'size']);
  assert.equal(sizeBytes('1.5K'), 1536);

  const model = 'model uses letters, digits, space . _ - (at most 64)';
  accepts(D, [{ model: 'a' }], [{ model: 'ST4000 NM0.0_3-a' }], [{ model: 'm'.repeat(64) }]);
  for (const m of ['', ' a', '-a', 'a/b', 'a:b', 'm'.repeat(65)]) refuses(D, [[{ model: m }]], model, [...D, 0, 'model']);
  const serial = 'serial uses letters, digits, . _ : - (at most 64)';
  accepts(D, [{ serial: 'Z' }], [{ serial: '0a.b_c:d-e' }], [{ serial: 's'.repeat(64) }]);
  for (const s of ['', ':a', 'a b', 'a/b', 's'.repeat(65)]) refuses(D, [[{ serial: s }]], serial, [...D, 0, 'serial']);
  accepts(D, [{ disk: 'd'.repeat(1024) }], [{ model: 'a', serial: 'b', size: { min: '1G' } }]);
  refuses(D, [[{ disk: 'd'.repeat(1025) }]], 'Too big: expected string to have <=1024 characters', [...D, 0, 'disk']);

  refuses(D, [[{}]], 'choose a disk by disk (c8t1d0, /dev/disk/by-id/...), or by model, serial or size', [...D, 0]);
  for (const other of [{ model: 'a' }, { serial: 'b' }, { size: { min: '1G' } }]) {
    refuses(D, [[{ disk: 'c1', ...other }]], 'name a disk either exactly (disk) or by what it reports (model, serial, size), not both', [...D, 0]);
  }

  const minimum = { mirror: 2, raidz: 2, raidz2: 3, raidz3: 4 };
  for (const [group, n] of Object.entries(minimum)) {
    const disks = (k: number) => Array.from({ length: k }, (_, i) => ({ disk: `c${i}` }));
    accepts(D, [{ [group]: disks(n) }], [{ [group]: disks(64) }]);
    refuses(D, [[{ [group]: disks(n - 1) }]], `a ${group} needs at least ${n} disks`, [...D, 0, group]);
    refuses(D, [[{ [group]: disks(65) }]], moreItems(64), [...D, 0, group]);
    assert.equal(vdevKind({ [group]: disks(n) } as VdevValue), group);
  }
  assert.equal(vdevKind({ disk: 'c1' }), 'disk');
  refuses(D, [[{ mirror: [{ disk: 'a' }, { disk: 'b' }], raidz: [{ disk: 'c' }, { disk: 'd' }] }]], 'a vdev is one disk or one group (mirror, raidz, raidz2, raidz3), not mirror and raidz', [...D, 0]);
  refuses(D, [[{ mirror: [{ disk: 'a' }, { disk: 'b' }], disk: 'c', serial: 'x' }]], 'a vdev is one disk or one group (mirror, raidz, raidz2, raidz3), not mirror and disk and serial', [...D, 0]);
  refuses(D, [[{ raidz2: [{ disk: 'a' }, { disk: 'b' }, { disk: 'c' }], model: 'm' }]], 'a vdev is one disk or one group (mirror, raidz, raidz2, raidz3), not raidz2 and model', [...D, 0]);
  refuses(D, [[{ mirror: [{ disk: 'a' }, { disk: 'b' }], size: { min: '1G' } }]], 'a vdev is one disk or one group (mirror, raidz, raidz2, raidz3), not mirror and size', [...D, 0]);
  refuses(D, [[{ mirror: [{ disk: 'a' }, {}] }]], 'choose a disk by disk (c8t1d0, /dev/disk/by-id/...), or by model, serial or size', [...D, 0, 'mirror', 1]);

  for (const where of ['cache', 'spares'] as const) {
    const P: Path = [...POOL, where];
    accepts(P, [{ disk: 'c2' }], Array.from({ length: 16 }, (_, i) => ({ disk: `c${i}` })));
    refuses(P, [Array.from({ length: 17 }, (_, i) => ({ disk: `c${i}` }))], moreItems(16));
    refuses(P, [[{ mirror: [{ disk: 'a' }, { disk: 'b' }] }]], 'cache and spare devices are single disks, not a mirror', [...P, 0]);
    refuses(P, [[{ raidz: [], raidz3: 1 }]], 'cache and spare devices are single disks, not a raidz or raidz3', [...P, 0]);
    refuses(P, [[{ raidz2: null }]], 'cache and spare devices are single disks, not a raidz2', [...P, 0]);
    refuses(P, [[{ disk: 'c1', model: 'm' }]], 'name a disk either exactly (disk) or by what it reports (model, serial, size), not both', [...P, 0]);
    refuses(P, [[{}]], 'choose a disk by disk (c8t1d0, /dev/disk/by-id/...), or by model, serial or size', [...P, 0]);
  }
  const pool = (parsed([...POOL, 'cache'], [{ model: 'm', size: { min: '1G' } }]).hosts as Record<string, Record<string, Record<string, unknown>>>[])[0]!.storageVm!.pool!;
  assert.deepEqual(pool.cache, [{ disk: undefined, model: 'm', serial: undefined, size: { min: '1G' } }]);
});

test('pool: data, log, property names, reserved properties', () => {
  refuses([...POOL, 'data'], [[]], 'a pool needs at least one data vdev');
  accepts([...POOL, 'data'], Array.from({ length: 64 }, (_, i) => ({ disk: `c${i}` })));
  refuses([...POOL, 'data'], [Array.from({ length: 65 }, (_, i) => ({ disk: `c${i}` }))], moreItems(64));
  const mirror = { mirror: [{ disk: 'a' }, { disk: 'b' }] };
  const raidz = { raidz: [{ disk: 'c' }, { disk: 'd' }] };
  accepts([...POOL, 'data'], [mirror, mirror], [{ disk: 'a' }, { disk: 'b' }]);
  refuses([...POOL, 'data'], [[mirror, { disk: 'e' }, raidz, mirror]], 'data vdevs of one kind only (zpool refuses a mismatched replication level): here mirror, disk, raidz');
  accepts([...POOL, 'log'], [{ disk: 'l1' }, mirror], Array.from({ length: 16 }, (_, i) => ({ disk: `l${i}` })));
  refuses([...POOL, 'log'], [Array.from({ length: 17 }, (_, i) => ({ disk: `l${i}` }))], moreItems(16));
  refuses([...POOL, 'log'], [[{ disk: 'l1' }, raidz]], 'a log vdev is one disk or a mirror', [...POOL, 'log', 1, 'raidz']);
  refuses([...POOL, 'log'], [[{ raidz3: [{ disk: 'a' }, { disk: 'b' }, { disk: 'c' }, { disk: 'd' }] }]], 'a log vdev is one disk or a mirror', [...POOL, 'log', 0, 'raidz3']);
  accepts([...POOL, 'force'], true);

  const P: Path = [...POOL, 'properties'];
  accepts(P, { ashift: '12' }, { 'feature@lz4_compress': 'enabled' }, { 'a0_:.@-': 'x' }, { [`a${'b'.repeat(255)}`]: 'x' }, {});
  for (const name of ['Ashift', '0a', '_a', 'a b', 'a/b', `a${'b'.repeat(256)}`]) {
    assert.deepEqual(problems(P, { [name]: 'x' }), [`${[...P, name].join('.')}: pool property names are lower-case, like ashift or feature@lz4_compress`], name);
  }
  const D: Path = [...DATASET, 'properties'];
  accepts(D, { compression: 'lz4' }, { 'org.example:note': 'x' }, { [`a${'b'.repeat(255)}`]: 'x' });
  for (const name of ['Compression', '1a', 'a@b', 'a-b', `a${'b'.repeat(256)}`]) {
    assert.deepEqual(problems(D, { [name]: 'x' }), [`${[...D, name].join('.')}: property names are lower-case ZFS property names`], name);
  }
  const reserved = {
    mountpoint: "mountpoint is not set through properties: set it with the dataset's mountpoint field, where it is checked",
    sharenfs: "sharenfs is not set through properties: set it with the dataset's share field, where the export is checked",
    sharesmb: 'sharesmb is not set through properties: SMB shares are not managed by esxi-zfs',
  };
  for (const [key, message] of Object.entries(reserved)) {
    refuses([...P, key], ['x'], message);
    refuses([...D, key], ['x'], message);
  }
  assert.deepEqual(problems(D, { mountpoint: '/a', sharenfs: 'on', compression: 'lz4' }), [`${[...D, 'mountpoint'].join('.')}: ${reserved.mountpoint}`, `${[...D, 'sharenfs'].join('.')}: ${reserved.sharenfs}`]);
});

test('datasets: share, datastore', () => {
  const S: Path = [...DATASET, 'share'];
  accepts(S, { rw: false }, { rw: ['vh1-nas'] }, { ro: ['a'], root: ['b'], nosuid: false }, { rw: Array.from({ length: 64 }, (_, i) => `c${i}`) });
  refuses(S, [{ rw: [] }], 'an empty rw list lets no one write: say rw: false for read-only', [...S, 'rw']);
  refuses(S, [{ rw: 'yes' }, { rw: 1 }], 'rw is true, false, or a list of client names', [...S, 'rw']);
  refuses(S, [{ root: Array.from({ length: 65 }, (_, i) => `c${i}`) }], moreItems(64), [...S, 'root']);
  refuses(S, [{ ro: Array.from({ length: 65 }, (_, i) => `c${i}`) }], moreItems(64), [...S, 'ro']);

  const T: Path = [...DATASET, 'datastore'];
  const ds = (over: object) => ({ name: 'ds1', mountOn: ['vh1'], ...over });
  accepts(T, ds({ name: 'a' }), ds({ name: `a${'b'.repeat(41)}` }), ds({ name: '0a._-' }), ds({ nfs: '4.1', access: 'readOnly' }), ds({ nfs: '3', access: 'readWrite' }));
  for (const name of ['', '-a', '.a', 'a b', 'a/b', `a${'b'.repeat(42)}`]) {
    refuses(T, [ds({ name })], 'datastore names use letters, digits, . _ - (at most 42)', [...T, 'name']);
  }
  refuses(T, [ds({ mountOn: [] })], fewerItems(1), [...T, 'mountOn']);
  refuses(T, [ds({ nfs: '4' })], 'Invalid option: expected one of "3"|"4.1"', [...T, 'nfs']);
  refuses(T, [ds({ access: 'rw' })], 'Invalid option: expected one of "readWrite"|"readOnly"', [...T, 'access']);
  accepts([...DATASET, 'replicateTo'], { vm: 'uss2', dataset: 'sp2/nas', send: ['raw'], retention: { keep: 3 }, rollback: true, recursive: true, intermediates: false });
});

test('storage VM: sizes and counts at their limits', () => {
  for (const [field, low, high] of [['cpus', 1, 128], ['memoryGiB', 0.5, 4096]] as const) {
    accepts([...VM, field], low, high);
  }
  refuses([...VM, 'cpus'], [0], tooSmall(1));
  refuses([...VM, 'cpus'], [129], tooBig(128));
  refuses([...VM, 'cpus'], [1.5], 'Invalid input: expected int, received number');
  refuses([...VM, 'memoryGiB'], [0, -1], 'Too small: expected number to be >0');
  refuses([...VM, 'memoryGiB'], [4096.5], tooBig(4096));
  const nic = (i: number) => ({ portGroup: 'VM Network', address: `192.0.2.${i + 1}/24` });
  accepts([...VM, 'nics'], Array.from({ length: 10 }, (_, i) => nic(i)));
  refuses([...VM, 'nics'], [Array.from({ length: 11 }, (_, i) => nic(i))], moreItems(10));
  refuses([...VM, 'nics'], [[]], fewerItems(1));
  accepts([...VM, 'bootDisk'], { sizeGiB: 1 }, { sizeGiB: 62 * 1024 });
  refuses([...VM, 'bootDisk'], [{ sizeGiB: 0 }], tooSmall(1), [...VM, 'bootDisk', 'sizeGiB']);
  refuses([...VM, 'bootDisk'], [{ sizeGiB: 62 * 1024 + 1 }], tooBig(62 * 1024), [...VM, 'bootDisk', 'sizeGiB']);
  accepts([...VM, 'ssh'], { address: 'uss1.example', credentials: 'root', hostKey: HOST_KEY, port: 1 }, { address: '10.0.0.1', credentials: 'root', hostKey: HOST_KEY, port: 65535 });
  refuses([...VM, 'ssh', 'port'], [0], tooSmall(1));
  refuses([...VM, 'ssh', 'port'], [65536], tooBig(65535));
  const route = (i: number) => ({ to: `10.${i}.0.0/16`, via: '192.0.2.1' });
  accepts([...VM, 'routes'], Array.from({ length: 32 }, (_, i) => route(i)));
  refuses([...VM, 'routes'], [Array.from({ length: 33 }, (_, i) => route(i))], moreItems(32));
  accepts([...VM, 'dns'], { servers: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], domain: 'example.org' }, { servers: [] });
  refuses([...VM, 'dns'], [{ servers: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'] }], moreItems(3), [...VM, 'dns', 'servers']);
  accepts([...VM, 'nicType'], 'vmxnet3', 'e1000');
  refuses([...VM, 'nicType'], ['e1000e'], 'Invalid option: expected one of "vmxnet3"|"e1000"');
  accepts([...VM, 'guestTimeout'], '1m', '1d');
  assert.equal(problems([...VM, 'guestTimeout'], '59s').length, 1);
  assert.equal(problems([...VM, 'guestTimeout'], '25h').length, 1);
  accepts([...VM, 'exportsTimeout'], '10s', '1d');
  assert.equal(problems([...VM, 'exportsTimeout'], '9s').length, 1);
  assert.equal(problems([...VM, 'exportsTimeout'], '25h').length, 1);
  accepts([...VM, 'diskDirectory'], '/var/disks');
});

test('storage VM: host key, ISO, guest id, hardware version, its own datastores', () => {
  const K: Path = [...VM, 'ssh', 'hostKey'];
  const keyMessage = 'must be a pinned public host key like "ssh-ed25519 AAAA..." (the type and base64 fields of known_hosts)';
  for (const type of ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']) accepts(K, `${type} AAAA+/09zZ`);
  accepts(K, 'ssh-rsa A=', 'ssh-rsa A==', 'ssh-rsa a');
  refuses(K, ['ssh-rsa A===', 'ssh-dss AAAA', 'ssh-rsa', 'ssh-rsa ', 'ssh-rsa  AAAA', 'ssh-rsa AA-A', 'ssh-rsa AAAA comment', 'xssh-rsa AAAA', 'ssh-rsa =', 'ecdsa-sha2-nistp999 AAAA'], keyMessage);

  const I: Path = [...VM, 'iso'];
  const isoMessage = 'must be an ISO on a datastore, like "[datastore1] iso/omnios.iso" (letters, digits, . _ - /)';
  accepts(I, '[datastore1] iso/omnios.iso', '[d] a.ISO', `[a${'b'.repeat(41)}] x/${'y'.repeat(253)}.iso`, '[0._-] _/a-b.iso', '[ds] .iso/x.iso');
  refuses(I, ['datastore1 iso/a.iso', '[] a.iso', '[-d] a.iso', '[d]a.iso', '[d] a.img', '[d] /a.iso', `[a${'b'.repeat(42)}] a.iso`, `[d] ${'y'.repeat(256)}.iso`, '[d] a b.iso', '[d] a.iso x', 'x[d] a.iso'], isoMessage);
  refuses(I, ['[d] ../a.iso', '[d] iso/../../a.iso', '[d] a/../x.iso'], 'must not climb out of the datastore (..)');
  accepts(I, '[d] ..a/x.iso', '[d] a../x.iso');

  const G: Path = [...VM, 'guestId'];
  accepts(G, 'solaris11_64Guest', 'debian12_64Guest', 'otherGuest', 'ab_64Guest', `a${'B'.repeat(40)}Guest`);
  refuses(G, ['Solaris11Guest', 'aGuest', `a${'B'.repeat(41)}Guest`, 'solaris11_32Guest', 'solaris11', 'solaris 11Guest', 'xsolaris11Guestx', '1abGuest'], 'must be a vSphere guest id like solaris11_64Guest or debian12_64Guest');

  const H: Path = [...VM, 'hardwareVersion'];
  accepts(H, 'vmx-7', 'vmx-07', 'vmx-19', 'vmx-30');
  refuses(H, ['vmx-6', 'vmx-31', 'vmx-99', 'vmx-0'], 'hardware versions run from vmx-7 to vmx-30');
  refuses(H, ['vmx19', 'vmx-7 ', 'vmx-+7', 'vmx- 8', 'vmx-0x9'], 'must be a hardware version like vmx-19');
  for (const bad of ['vmx-100', 'vmx-', 'vmx-a', 'xvmx-19', 'vmx-19x']) {
    // The range is checked on text the pattern refused too: the second message adds nothing wrong.
    assert.equal(problems(H, bad)[0], `${H.join('.')}: must be a hardware version like vmx-19`, bad);
  }

  refuses([...VM, 'datastore'], ['', '-a', `a${'b'.repeat(42)}`, 'a b'], 'datastore names use letters, digits, . _ - (at most 42)');
  accepts([...VM, 'datastore'], 'datastore1', `a${'b'.repeat(41)}`);
  const serving = (over: object) => ({
    ...(base().hosts as Record<string, Record<string, unknown>>[])[0]!.storageVm!,
    datasets: [{ name: 'sp1/a' }, { name: 'sp1/b', datastore: { name: 'nas1', mountOn: ['vh1'] } }],
    ...over,
  });
  refuses(VM, [serving({ datastore: 'nas1' })], 'nas1 is served by this VM itself: its files must live on a datastore that is there before it boots', [...VM, 'datastore']);
  refuses(VM, [serving({ iso: '[nas1] iso/a.iso' })], 'the ISO is on a datastore this VM serves: it cannot boot from it', [...VM, 'iso']);
  accepts(VM, serving({ datastore: 'local1', iso: '[local1] iso/a.iso' }), serving({ datastore: 'nas', iso: '[nas] nas1.iso' }), serving({ iso: '[nas11] a.iso' }));
});

test('hosts: passthrough device and timeouts, storage network', () => {
  const P: Path = ['hosts', 0, 'passthrough'];
  accepts(P, { device: { address: '0000:05:00.0' } }, { device: { address: 'ffff:ff:1f.7' } }, { device: { vendorId: '0x19e3' } }, { device: { deviceId: '0xABCD' } }, { device: { classId: '0x0100' } });
  refuses(P, [{ device: {} }], 'name the device by address or by vendorId/deviceId/classId', [...P, 'device']);
  for (const address of ['0000:05:00.8', '000:05:00.0', '0000:5:00.0', '0000:05:0.0', '0000:05:00', 'FFFF:05:00.0', '0000:05:00.0x', 'x0000:05:00.0', '0000-05-00.0', '0000:05:00:0', 'g000:05:00.0']) {
    refuses(P, [{ device: { address } }], 'must be a PCI address like 0000:05:00.0', [...P, 'device', 'address']);
  }
  for (const field of ['vendorId', 'deviceId', 'classId']) {
    for (const id of ['19e3', '0x19e', '0x19e3f', '0X19E3', '0x19g3', 'x0x19e3', '0x19e3x']) {
      refuses(P, [{ device: { [field]: id } }], 'must be a 16-bit hex id like 0x19e3', [...P, 'device', field]);
    }
  }
  accepts(P, { device: { classId: '0x0100' }, rebootTimeout: '1m', maintenanceMode: false, runningVms: 'powerOff' }, { device: { classId: '0x0100' }, rebootTimeout: '1d' });
  assert.equal(problems(P, { device: { classId: '0x0100' }, rebootTimeout: '59s' }).length, 1);
  assert.equal(problems(P, { device: { classId: '0x0100' }, rebootTimeout: '25h' }).length, 1);
  refuses(P, [{ device: { classId: '0x0100' }, runningVms: 'migrate' }], 'Invalid option: expected one of "refuse"|"powerOff"', [...P, 'runningVms']);

  const N: Path = ['hosts', 0, 'storageNetwork'];
  accepts(N, { vswitch: 'vSwitch1', portGroup: 'eSAN', vmkernel: { name: 'eSAN-Interface1', address: '10.0.1.11/24', hostName: 'vh1-nas' } });
  refuses(N, [{ vswitch: 'vSwitch1', portGroup: 'eSAN', vmkernel: { name: 'k', address: '10.0.1.11/24', extra: 1 } }], 'Unrecognized key: "extra"', [...N, 'vmkernel']);
});
