/**
 * What the inventory refuses because it would leak a secret, be dangerous on a host, be a mistake
 * operators make across sections, or fail later at run time: each case at its path and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRejected, assertValid, problems, withChange, withChanges } from '../helpers/inventory';

const VM = ['hosts', 1, 'storageVm'];
const VM2 = ['hosts', 2, 'storageVm'];
const DATASET = [...VM, 'datasets', 0];
const AT_VM = 'hosts[1].storageVm';
const AT_DATASET = `${AT_VM}.datasets[0]`;
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n';

test('secrets: a key pasted as privateKeyFile is refused without repeating it', () => {
  const text = withChange(['credentials', 'storage-root', 'privateKeyFile'], KEY);
  assertRejected(text, 'credentials.storage-root.privateKeyFile', /holds a key, not a path/);
  assert.doesNotMatch(JSON.stringify(problems(text)), /b3BlbnNzaC1rZXkt/);
  assertRejected(withChange(['credentials', 'storage-root', 'privateKeyFile'], 'id_ed25519'), 'credentials.storage-root.privateKeyFile', /absolute path or start with ~\//);
});

test('secrets: a password in the vSphere URL is refused without repeating it', () => {
  for (const url of ['https://administrator:hunter2@vcenter.example/sdk', 'https://hunter2@vcenter.example/sdk']) {
    const text = withChange(['vsphere', 'url'], url);
    assertRejected(text, 'vsphere.url', /must not carry a user or password/);
    assert.doesNotMatch(JSON.stringify(problems(text)), /hunter2/);
  }
  assertRejected(withChange(['vsphere', 'url'], 'ftp://vcenter.example/sdk'), 'vsphere.url', /https:\/\//);
  assertRejected(withChange(['vsphere', 'url'], 'https://vcenter.example/sdk?x=$(id)'), 'vsphere.url', /query/);
});

test('secrets: a key named twice, or a passphrase without a key, is refused before run time', () => {
  assertRejected(withChange(['credentials', 'storage-root', 'privateKeyEnv'], 'KEY'), 'credentials.storage-root.privateKeyEnv', /not both/);
  assertRejected(withChange(['credentials', 'vcenter', 'passphraseEnv'], 'PASS'), 'credentials.vcenter.passphraseEnv', /belongs to a key/);
});

test('danger: mountpoints on the system\'s own directories, or with .., are refused, also through properties', () => {
  for (const mountpoint of ['/', '/etc', '/usr/local/x', '/var', '/boot/efi', '/dev/zvol', '/export', '/root']) {
    assertRejected(withChange([...DATASET, 'mountpoint'], mountpoint), `${AT_DATASET}.mountpoint`, /system/);
  }
  assertRejected(withChange([...DATASET, 'mountpoint'], '/export/../etc'), `${AT_DATASET}.mountpoint`, /'\.\.'/);
  assertRejected(withChange([...DATASET, 'properties'], { mountpoint: '/etc' }), `${AT_DATASET}.properties.mountpoint`, /mountpoint field/);
  assertValid(withChange([...DATASET, 'mountpoint'], '/export/vol0'));
  assertValid(withChange([...DATASET, 'mountpoint'], '/srv/nfs/vol0'));
});

test('danger: sharenfs through properties is refused (root to everyone would pass the share field\'s checks)', () => {
  assertRejected(withChange([...DATASET, 'properties'], { sharenfs: 'rw,root=@0.0.0.0/0' }), `${AT_DATASET}.properties.sharenfs`, /share field/);
  assertRejected(withChange([...VM, 'pool', 'properties'], { sharenfs: 'on' }), `${AT_VM}.pool.properties.sharenfs`, /share field/);
});

test('danger: a system account as the replication user only when said explicitly', () => {
  for (const user of ['root', 'daemon', 'bin', 'nobody']) {
    assertRejected(withChange(['replication', 'user'], user), 'replication.user', /account of the OS itself.*allowSystemUser/);
  }
  assertValid(withChanges([[['replication', 'user'], 'root'], [['replication', 'allowSystemUser'], true]]));
});

test('danger: a replica received into the target pool\'s root or over the target\'s own datasets is refused', () => {
  assertRejected(withChange([...DATASET, 'replicateTo', 'dataset'], 'sp2'), `${AT_DATASET}.replicateTo.dataset`, /pool itself/);
  assertRejected(withChange([...DATASET, 'replicateTo', 'dataset'], 'sp2/nas'), `${AT_DATASET}.replicateTo.dataset`, /holds uss2's own dataset "sp2\/nas\/vol1"/);
  assertRejected(withChange([...DATASET, 'replicateTo', 'dataset'], 'sp2/nas/vol1'), `${AT_DATASET}.replicateTo.dataset`, /one of uss2's own datasets/);
});

test('danger: two replicas into one dataset, or one inside another, are refused', () => {
  const second = { name: 'sp1/nas/vol2', replicateTo: { vm: 'uss2', dataset: 'sp2/nas/vol0/inner' } };
  const text = withChange([...VM, 'datasets', 1], second);
  assertRejected(text, `${AT_VM}.datasets[1].replicateTo.dataset`, /inside another replica, "sp2\/nas\/vol0"/);
  const same = withChange([...VM, 'datasets', 1], { name: 'sp1/nas/vol2', replicateTo: { vm: 'uss2', dataset: 'sp2/nas/vol0' } });
  assertRejected(same, `${AT_VM}.datasets[1].replicateTo.dataset`, /duplicate replication target/);
  assertValid(withChange([...VM, 'datasets', 1], { name: 'sp1/nas/vol2', replicateTo: { vm: 'uss2', dataset: 'sp2/nas/vol0-b' } }));
});

test('danger: one disk in two vdevs, and devices outside /dev unless diskDirectory says so', () => {
  assertRejected(withChange([...VM, 'pool', 'log', 0, 'disk'], 'c8t1d0'), `${AT_VM}.pool.log[0].disk`, /duplicate disk/);
  assertRejected(withChange([...VM, 'pool', 'data', 0, 'disk'], '/dev/../etc/shadow'), `${AT_VM}.pool.data[0].disk`, /'\.\.'/);
  assertRejected(withChange([...VM, 'pool', 'data', 0, 'disk'], '/etc/shadow'), `${AT_VM}.pool.data[0].disk`, /outside \/dev/);
  assertValid(withChange([...VM, 'pool', 'data', 0, 'disk'], '/dev/dsk/c8t1d0'));
  assertValid(withChanges([[[...VM, 'pool', 'data', 0, 'disk'], '/srv/disks/d0'], [[...VM, 'diskDirectory'], '/srv/disks']]));
  assertRejected(withChanges([[[...VM, 'pool', 'data', 0, 'disk'], '/srv/other/d0'], [[...VM, 'diskDirectory'], '/srv/disks']]), `${AT_VM}.pool.data[0].disk`, /outside diskDirectory/);
});

test('danger: two datasets with one mountpoint, written or inherited, are refused', () => {
  const twin = { name: 'sp1/nas/vol2', mountpoint: '/export/uss1-nas-vol0' };
  assertRejected(withChange([...VM, 'datasets', 1], twin), `${AT_VM}.datasets[1].mountpoint`, /duplicate mountpoint "\/export\/uss1-nas-vol0"/);
  const inherited = withChanges([
    [[...VM, 'datasets', 1], { name: 'sp1/nas', mountpoint: '/export/nas' }],
    [[...VM, 'datasets', 2], { name: 'sp1/nas/vol9' }],
    [[...VM, 'datasets', 3], { name: 'sp1/other', mountpoint: '/export/nas/vol9' }],
  ]);
  assertRejected(inherited, `${AT_VM}.datasets[3].mountpoint`, /duplicate mountpoint "\/export\/nas\/vol9"/);
});

test('danger: ssh ciphers without integrity or with known weaknesses are refused', () => {
  assertRejected(withChange(['replication', 'sshCiphers'], ['none']), 'replication.sshCiphers[0]', /integrity/);
  assertRejected(withChange(['replication', 'sshCiphers'], ['aes256-cbc']), 'replication.sshCiphers[0]', /integrity/);
});

test('danger: a dataset name must leave room for the snapshot suffix within ZFS\'s 255 characters', () => {
  const long = `sp1/${'a'.repeat(230)}`;
  assertRejected(withChange([...DATASET, 'name'], long), `${AT_DATASET}.name`, /no room for the snapshot suffix.*at most 229/);
  const fits = `sp1/${'a'.repeat(225)}`;
  assertValid(withChange([...DATASET, 'name'], fits));
  assertRejected(withChange([...DATASET, 'replicateTo', 'dataset'], `sp2/${'b'.repeat(230)}`), `${AT_DATASET}.replicateTo.dataset`, /no room/);
});

test('danger: stall timeouts, retries and timeouts within sane bounds; retention that keeps something', () => {
  assertRejected(withChange(['replication', 'stallTimeout'], '0s'), 'replication.stallTimeout', /from 10s to 1d/);
  assertRejected(withChange(['replication', 'stallTimeout'], '99999999999s'), 'replication.stallTimeout', /duration like/);
  assertRejected(withChange(['replication', 'retry'], { maximumAttempts: 1_000_000 }), 'replication.retry.maximumAttempts', /100/);
  assertRejected(withChange(['replication', 'retry'], { initialInterval: '1m', maximumInterval: '10s' }), 'replication.retry.maximumInterval', /not be shorter/);
  assertRejected(withChange(['hosts', 1, 'passthrough', 'rebootTimeout'], '0s'), 'hosts[1].passthrough.rebootTimeout', /from 1m to 1d/);
  assertRejected(withChange(['replication', 'schedule', 'catchupWindow'], '5s'), 'replication.schedule.catchupWindow', /from 10s/);
  for (const rules of [{ daily: 0 }, { daily: 0, weekly: 0 }, {}]) {
    assertRejected(withChange(['replication', 'retention'], rules), 'replication.retention', /keep nothing/);
  }
  assertValid(withChange(['replication', 'retention'], { keep: 1 }));
});

test('cross-checks: names that differ only in case are one name to DNS and vSphere', () => {
  assertRejected(withChange(['hosts', 3, 'name'], 'VH0'), 'hosts[3].name', /differs from "vh0".*only in case/);
  assertRejected(withChange([...VM2, 'name'], 'USS1'), 'hosts[2].storageVm.name', /only in case/);
  assertRejected(withChange([...VM2, 'datasets', 0, 'datastore', 'name'], 'USS1-NAS-VOL0'), 'hosts[2].storageVm.datasets[0].datastore.name', /only in case/);
});

test('cross-checks: gateways in their subnet, no network or broadcast address, one address per interface', () => {
  assertRejected(withChange([...VM, 'nics', 0, 'gateway'], '198.51.100.1'), `${AT_VM}.nics[0].gateway`, /outside this NIC's subnet 192.0.2.0\/24/);
  assertRejected(withChange([...VM, 'nics', 0, 'gateway'], '192.0.2.41'), `${AT_VM}.nics[0].gateway`, /own address/);
  assertRejected(withChange([...VM, 'nics', 0, 'gateway'], '192.0.2.255'), `${AT_VM}.nics[0].gateway`, /broadcast/);
  assertRejected(withChange([...VM, 'nics', 1, 'address'], '10.0.1.0/24'), `${AT_VM}.nics[1].address`, /network address/);
  assertRejected(withChange([...VM, 'nics', 1, 'address'], '10.0.1.255/24'), `${AT_VM}.nics[1].address`, /broadcast address/);
  assertRejected(withChange([...VM2, 'nics', 1, 'address'], '10.0.1.41/24'), 'hosts[2].storageVm.nics[1].address', /already given to hosts\[1\]\.storageVm\.nics\[1\]\.address/);
  assertRejected(withChange(['hosts', 2, 'storageNetwork', 'vmkernel', 'address'], '10.0.1.11/24'), 'hosts[2].storageNetwork.vmkernel.address', /already given/);
  assertValid(withChange([...VM, 'nics', 1, 'address'], '10.0.1.0/31'));
});

test('runtime: time zones spelt as Temporal spells them, cron as Temporal reads it', () => {
  assertRejected(withChange(['replication', 'schedule', 'timezone'], 'america/chicago'), 'replication.schedule.timezone', /case-sensitive.*America\/Chicago/);
  assertRejected(withChange(['replication', 'schedule', 'timezone'], 'utc'), 'replication.schedule.timezone', /write UTC/);
  assertValid(withChange(['replication', 'schedule', 'timezone'], 'Asia/Kolkata'));
  assertValid(withChange(['replication', 'schedule', 'timezone'], 'US/Central'));
  for (const cron of ['0 0 L * *', '0 0 * * 5#3', '0 0 ? * 1', 'H 0 * * *', '0 0 15W * *']) {
    assertRejected(withChange(['replication', 'schedule', 'cron'], cron), 'replication.schedule.cron', /Temporal schedules do not accept/);
  }
  assertRejected(withChange(['replication', 'schedule', 'cron'], '0 0 * * fri-mon'), 'replication.schedule.cron', /ends before it starts/);
  assertRejected(withChange(['replication', 'schedule', 'cron'], '@daily'), 'replication.schedule.cron', /five fields/);
  assertValid(withChange(['replication', 'schedule', 'cron'], '*/15 1-3,5 1 jan-mar mon-fri'));
});

test('messages escape what was written: a forged line in a time zone stays on one line', () => {
  const forged = '\u001b[2K\rreplication.schedule.timezone: is valid\n';
  const found = problems(withChange(['replication', 'schedule', 'timezone'], forged));
  const problem = found.find((p) => p.path === 'replication.schedule.timezone');
  assert.ok(problem);
  assert.ok(![...problem.message].some((c) => c.charCodeAt(0) < 0x20), problem.message);
  assert.match(problem.message, /\\u001b\[2K\\r/);
});

test('durations: each bound is inside, one step past it is not', () => {
  assertValid(withChange(['replication', 'stallTimeout'], '10s'));
  assertValid(withChange(['replication', 'stallTimeout'], '1d'));
  assertRejected(withChange(['replication', 'stallTimeout'], '9999ms'), 'replication.stallTimeout', /^must be from 10s to 1d$/);
  assertRejected(withChange(['replication', 'stallTimeout'], '86401s'), 'replication.stallTimeout', /^must be from 10s to 1d$/);
  assertRejected(withChange(['replication', 'stallTimeout'], '2 m'), 'replication.stallTimeout', /^must be a duration like 90s, 30m, 2h or 1d$/);
});
