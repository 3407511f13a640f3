/**
 * The disks a storage VM could build its pool from: listing and label parsers on captured output
 * (zfs-fuse lab host: test/fixtures/guest/zfs-fuse-*), on illumos samples written in format's,
 * iostat's and zdb's formats (illumos cannot run here), and on an OpenZFS sample; then
 * resolveDisks' choices and conflicts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolSpec } from '../../core/configure/shared';
import { resolveDisks, type DiskConflict } from '../../core/guest/storage/disks';
import { assembleDisks, disksToProbe, type GuestDisk } from '../../core/guest/storage/guest-disk';
import { parseLabelProbe, parseZdbLabel, PROBES_AT_ONCE } from '../../core/guest/storage/labels';
import { linuxWholeDiskName } from '../../core/guest/storage/linux-disks';
import { illumosWholeDiskName } from '../../core/guest/storage/illumos-disks';
import { storageCommands } from '../../core/guest/storage/os';
import { parsePoolStatus } from '../../core/guest/storage/pool-layout';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/guest', name), 'utf8');
const GiB = 2 ** 30;

function labDisks(): GuestDisk[] {
  const os = storageCommands.linux;
  return assembleDisks(
    os.parseDiskListing(fixture('zfs-fuse-disk-listing.txt')),
    os.parseLabelProbe(fixture('zfs-fuse-label-probe.txt')),
    parsePoolStatus(fixture('zfs-fuse-zpool-status-sp1.txt')),
    os.wholeDiskName,
  );
}

function uss1Disks(status = 'illumos-zpool-status-blank.txt'): GuestDisk[] {
  const os = storageCommands.illumos;
  return assembleDisks(
    os.parseDiskListing(fixture('illumos-disk-listing.txt')),
    os.parseLabelProbe(fixture('illumos-label-probe-blank.txt')),
    parsePoolStatus(fixture(status)),
    os.wholeDiskName,
  );
}

function pool(overrides: Partial<PoolSpec>): PoolSpec {
  return { name: 'sp1', data: [], log: [], cache: [], spares: [], properties: {}, force: false, ...overrides };
}

function conflicts(result: ReturnType<typeof resolveDisks>): DiskConflict[] {
  assert.equal(result.ok, false, 'expected conflicts');
  return result.ok ? [] : result.conflicts;
}

test('linux (captured on a zfs-fuse lab host): lsblk, no by-id, the disk directory with its loop-backed cache disk', () => {
  const listed = storageCommands.linux.parseDiskListing(fixture('zfs-fuse-disk-listing.txt'));
  assert.deepEqual(listed.slice(0, 4), [
    // the machine's own disk, seen from inside the lab namespace: mounted, so never usable
    { name: '/dev/vda', aliases: [], sizeBytes: 274877906944, kind: 'block', inUse: 'vda is mounted at /var/mail' },
    { name: '/srv/disks/c11t0d0', aliases: [], sizeBytes: 256 * 2 ** 20, kind: 'file' },
    { name: '/srv/disks/c8t1d0', aliases: [], sizeBytes: 2 * GiB, kind: 'file' },
    { name: '/srv/disks/c9t0d0', aliases: [], sizeBytes: 512 * 2 ** 20, kind: 'block' },
  ]);
  assert.ok(!listed.some((d) => d.name.includes('loop') || d.name.includes('zram')), 'loop devices and empty zram are no disks');
});

test('linux listing and probe are argv arrays: the directory and the devices are arguments, never script text', () => {
  const os = storageCommands.linux;
  const listing = os.diskListing('/srv/disks');
  assert.deepEqual([listing[0], listing[1], listing[3], listing[4]], ['sh', '-c', 'sh', '/srv/disks']);
  assert.equal(listing.length, 5);
  assert.equal(os.diskListing().length, 4, 'no directory: no argument');
  const probe = os.labelProbe([{ name: "/srv/disks/it's", aliases: [], sizeBytes: 1, kind: 'file' }]);
  assert.equal(probe.at(-1), "/srv/disks/it's");
  assert.ok(!probe[2]!.includes('srv'));
});

test('zdb -l on zfs-fuse: active, exported, destroyed, hot-spare and cache-device labels, and none', () => {
  const probed = parseLabelProbe(fixture('zfs-fuse-label-probe.txt'));
  assert.deepEqual(probed.get('/srv/disks/c8t1d0')?.zfs, { pool: 'sp1', state: 0, poolGuid: '3837534276230014317' });
  assert.deepEqual(probed.get('/srv/disks/x-m1')?.zfs, { pool: 'tank', state: 1, poolGuid: '18021998399823411081' });
  assert.equal(probed.get('/srv/disks/x-m6')?.zfs?.state, 2);
  assert.deepEqual(probed.get('/srv/disks/x-s1'), { zfs: { state: 3 } });
  assert.deepEqual(probed.get('/srv/disks/c9t0d0')?.zfs, { state: 4 });
  assert.deepEqual(probed.get('/srv/disks/x-m3'), {}, 'a blank file: four "failed to unpack", no blkid output');
  assert.deepEqual(probed.get('/srv/disks/x-r3'), { fsType: 'ext4' });
  assert.deepEqual(probed.get('/dev/vda'), { unreadable: 'Operation not permitted' });
  assert.equal(parseZdbLabel(''), undefined);
  const openzfs = '------------------------------------\nLABEL 0 \n------------------------------------\n    version: 5000\n    name: \'tank\'\n    state: 1\n    txg: 41\n    pool_guid: 17039623514263512345\n    features_for_read:\n        com.delphix:hole_birth\n    labels = 0 1 2 3 \n';
  assert.deepEqual(parseZdbLabel(openzfs), { pool: 'tank', state: 1, poolGuid: '17039623514263512345' }, 'OpenZFS\'s shorter rules and one label for four');
});

test('assembled lab disks: pool members from zpool status, stray labels in words, the blank file blank', () => {
  const disks = new Map(labDisks().map((d) => [d.name, d]));
  assert.equal(disks.get('/srv/disks/c8t1d0')!.pool, 'sp1');
  assert.equal(disks.get('/srv/disks/c9t0d0')!.pool, 'sp1', 'the cache device too, though its label has no pool name');
  assert.equal(disks.get('/srv/disks/c8t1d0')!.label, undefined, 'its own pool\'s label is no stray label');
  assert.equal(disks.get('/srv/disks/x-m1')!.label, "a ZFS label of exported pool 'tank' (zpool import tank brings it back)");
  assert.equal(disks.get('/srv/disks/x-m6')!.label, "a ZFS label of destroyed pool 'pp2' (zpool import -D can still recover it)");
  assert.equal(disks.get('/srv/disks/x-s1')!.label, 'a ZFS hot spare label of a pool not imported here');
  assert.equal(disks.get('/srv/disks/x-r3')!.label, 'an ext4 signature');
  assert.equal(disks.get('/srv/disks/x-m3')!.label, undefined);
  assert.equal(disks.get('/srv/disks/x-m2')!.label, undefined, 'not probed: nothing known, nothing claimed');
});

test('illumos (sample in format/iostat -En/zdb formats): disks joined by name, exact sizes, model and serial from iostat', () => {
  const disks = uss1Disks();
  assert.deepEqual(disks, [
    { name: 'c8t0d0', aliases: ['/dev/dsk/c8t0d0', '/dev/rdsk/c8t0d0'], sizeBytes: 8 * GiB, model: 'VMware Virtual disk', kind: 'block', pool: 'rpool' },
    { name: 'c8t1d0', aliases: ['/dev/dsk/c8t1d0', '/dev/rdsk/c8t1d0'], sizeBytes: 256 * GiB, model: 'VMware Virtual disk', kind: 'block' },
    { name: 'c11t0d0', aliases: ['/dev/dsk/c11t0d0', '/dev/rdsk/c11t0d0'], sizeBytes: 4155310080, model: 'DDRDRIVE X1', serial: 'DDR0X1A0001', kind: 'block' },
  ]);
  assert.deepEqual(storageCommands.illumos.diskListing('/ignored'), ['sh', '-c', storageCommands.illumos.diskListing()[2], 'sh']);
  assert.deepEqual(storageCommands.illumos.labelProbe(disks).slice(4), ['c8t0d0', 'c8t1d0', 'c11t0d0']);
});

test('illumos without iostat data falls back to format\'s capacity; a listing without its sections is refused', () => {
  const [disk] = storageCommands.illumos.parseDiskListing('@@ format\n       1. c8t1d0 <VMware-Virtual disk-1.0-256.00GB>\n@@ iostat\n');
  assert.equal(disk!.sizeBytes, 256 * GiB);
  assert.throws(() => storageCommands.illumos.parseDiskListing('0. c8t1d0 <x>'), /illumos listing script/);
  assert.throws(() => storageCommands.linux.parseDiskListing('NAME="sdb"'), /no "@@ lsblk" section/);
});

test('labels are probed only where they matter: not on an imported pool\'s disks, not on a disk in use', () => {
  const os = storageCommands.linux;
  const openzfs = os.parseDiskListing(fixture('openzfs-disk-listing.txt'));
  assert.deepEqual(disksToProbe(openzfs, [], os.wholeDiskName).map((d) => d.name), ['/dev/sdb', '/dev/sdc', '/dev/sdd', '/dev/sde', '/dev/nvme0n1'], 'sda holds the mounted /boot/efi');
  const lab = os.parseDiskListing(fixture('zfs-fuse-disk-listing.txt'));
  const probed = disksToProbe(lab, parsePoolStatus(fixture('zfs-fuse-zpool-status-sp1.txt')), os.wholeDiskName).map((d) => d.name);
  assert.ok(probed.length > 0 && probed.every((n) => !['/srv/disks/c8t1d0', '/srv/disks/c11t0d0', '/srv/disks/c9t0d0'].includes(n)), probed.join(' '));
  assert.ok(probed.includes('/srv/disks/x-m1'));
});

test('OpenZFS sample: by-id aliases per disk, the system disk in use through its partitions, a partitioned disk labelled', () => {
  const listed = new Map(storageCommands.linux.parseDiskListing(fixture('openzfs-disk-listing.txt')).map((d) => [d.name, d]));
  assert.deepEqual([...listed.keys()], ['/dev/sda', '/dev/sdb', '/dev/sdc', '/dev/sdd', '/dev/sde', '/dev/nvme0n1']);
  assert.deepEqual(listed.get('/dev/sda')!.inUse, 'sda1 is mounted at /boot/efi');
  assert.deepEqual(listed.get('/dev/sdb')!.aliases, ['/dev/disk/by-id/scsi-36000c29a1b2c3d4e5f60718293a4b5c6', '/dev/disk/by-id/wwn-0x6000c29a1b2c3d4e5f60718293a4b5c6']);
  assert.equal(listed.get('/dev/sde')!.label, 'partitions sde1 (zfs_member), sde9');
  assert.equal(listed.get('/dev/nvme0n1')!.serial, 'PHM2913000QM280AGN');
  const swapOnly = storageCommands.linux.parseDiskListing('@@ lsblk\nNAME="sdf" PKNAME="" TYPE="disk" SIZE="10" MODEL="A\\x20B" SERIAL="" FSTYPE="swap" PTTYPE="" MOUNTPOINT="[SWAP]"\n@@ by-id\n@@ files\n');
  assert.deepEqual(swapOnly[0], { name: '/dev/sdf', aliases: [], sizeBytes: 10, model: 'A B', kind: 'block', label: 'a swap signature', inUse: 'sdf is swap' });
});

test('whole-disk names as zpool status prints them: OpenZFS partition suffixes, illumos slices', () => {
  assert.equal(linuxWholeDiskName('sdb1'), 'sdb');
  assert.equal(linuxWholeDiskName('/dev/sdb1'), '/dev/sdb');
  assert.equal(linuxWholeDiskName('nvme0n1p1'), 'nvme0n1');
  assert.equal(linuxWholeDiskName('ata-Samsung_SSD_870_EVO_1TB_S6PTNM0T512345A-part1'), 'ata-Samsung_SSD_870_EVO_1TB_S6PTNM0T512345A');
  assert.equal(linuxWholeDiskName('xvdb2'), 'xvdb');
  assert.equal(linuxWholeDiskName('/srv/disks/c8t1d0'), '/srv/disks/c8t1d0', 'a file is its own name');
  assert.equal(linuxWholeDiskName('nvme0n1'), 'nvme0n1');
  assert.equal(illumosWholeDiskName('c8t0d0s0'), 'c8t0d0');
  assert.equal(illumosWholeDiskName('/dev/dsk/c8t1d0s0'), 'c8t1d0');
  assert.equal(illumosWholeDiskName('c0t5000C500A1B2C3D4d0p1'), 'c0t5000C500A1B2C3D4d0');
  assert.equal(illumosWholeDiskName('c8t1d0'), 'c8t1d0');
});

test('the runbook\'s pool on uss1: c8t1d0 by name, the DDRdrive X1 by model; names as the runbook writes them', () => {
  const result = resolveDisks(pool({ data: [{ kind: 'disk', disks: [{ disk: 'c8t1d0' }] }], log: [{ kind: 'disk', disks: [{ model: 'DDRDRIVE-X1' }] }] }), uss1Disks());
  assert.ok(result.ok);
  assert.deepEqual(result.data.map((v) => v.disks.map((d) => [d.path, d.device])), [[['pool.data[0]', 'c8t1d0']]]);
  assert.deepEqual(result.log.map((v) => v.disks.map((d) => [d.path, d.device])), [[['pool.log[0]', 'c11t0d0']]]);
  const viaDsk = resolveDisks(pool({ data: [{ kind: 'disk', disks: [{ disk: '/dev/dsk/c8t1d0' }] }] }), uss1Disks());
  assert.ok(viaDsk.ok);
  assert.equal(viaDsk.data[0]!.disks[0]!.disk.name, 'c8t1d0', '/dev/dsk/c8t1d0 is the same disk');
  assert.equal(viaDsk.data[0]!.disks[0]!.device, '/dev/dsk/c8t1d0', 'and the pool is built with the name the inventory wrote');
});

test('a size selector looks past rpool\'s disk and means the one free disk of that size', () => {
  const result = resolveDisks(pool({ data: [{ kind: 'disk', disks: [{ minBytes: 8 * GiB, model: 'VMware' }] }] }), uss1Disks());
  assert.ok(result.ok);
  assert.equal(result.data[0]!.disks[0]!.disk.name, 'c8t1d0');
});

test('NoDiskMatches names the inventory path and the nearest free disks', () => {
  const [c] = conflicts(resolveDisks(pool({ data: [{ kind: 'disk', disks: [{ disk: 'c8t2d0' }] }] }), uss1Disks()));
  assert.equal(c!.type, 'NoDiskMatches');
  assert.equal(c!.message, 'pool.data[0]: no disk matches disk "c8t2d0": nearest c8t1d0 (256 GiB, VMware Virtual disk); c11t0d0 (3.87 GiB, DDRDRIVE X1, serial DDR0X1A0001)');
  const [m] = conflicts(resolveDisks(pool({ log: [{ kind: 'disk', disks: [{ model: 'DDRDRIVE-X10' }] }] }), uss1Disks()));
  assert.equal(m!.type, 'NoDiskMatches', 'X1 is not X10');
  const [t] = conflicts(resolveDisks(pool({ data: [{ kind: 'disk', disks: [{ maxBytes: 2 * GiB }] }] }), uss1Disks()));
  assert.match(t!.message, /nearest c11t0d0/);
});

test('NoDiskMatches when a selector matches only taken disks says which and why', () => {
  const disks = uss1Disks().map((d) => (d.name === 'c8t1d0' ? { ...d, pool: 'sp2' } : d));
  const [c] = conflicts(resolveDisks(pool({ data: [{ kind: 'disk', disks: [{ model: 'VMware Virtual disk' }] }] }), disks));
  assert.equal(c!.type, 'NoDiskMatches');
  assert.equal(c!.message, 'pool.data[0]: model "VMware Virtual disk" matches only disks that are taken: c8t0d0 (in imported pool rpool); c8t1d0 (in imported pool sp2)');
});

test('SeveralDisksMatch lists the candidates; DiskChosenTwice names both paths', () => {
  const disks = labDisks();
  const [several] = conflicts(resolveDisks(pool({ name: 'tank', data: [{ kind: 'disk', disks: [{ maxBytes: 128 * 2 ** 20 }] }] }), disks.filter((d) => !d.label)));
  assert.equal(several!.type, 'SeveralDisksMatch');
  assert.match(several!.message, /^pool\.data\[0\]: at most 128 MiB matches 7 disks: \/srv\/disks\/x-l2 \(128 MiB\); .*: add its serial, or name it by disk$/);
  const twice = conflicts(resolveDisks(pool({ name: 'tank', data: [{ kind: 'mirror', disks: [{ disk: '/srv/disks/x-m2' }, { disk: '/srv/disks/x-m2' }] }] }), disks));
  assert.deepEqual(twice.map((c) => c.type), ['DiskChosenTwice']);
  assert.equal(twice[0]!.message, '/srv/disks/x-m2 (128 MiB) is chosen by pool.data[0].mirror[0] and pool.data[0].mirror[1]: a disk can be in one vdev only');
});

test('a disk of an imported pool is refused, force or not; a mounted disk too', () => {
  for (const force of [false, true]) {
    const [c] = conflicts(resolveDisks(pool({ name: 'tank', force, data: [{ kind: 'disk', disks: [{ disk: '/srv/disks/c8t1d0' }] }] }), labDisks()));
    assert.equal(c!.type, 'DiskInAnotherPool');
    assert.equal(c!.message, 'pool.data[0]: /srv/disks/c8t1d0 (2.00 GiB) is in imported pool sp1: a disk of an imported pool is never taken, force or not: choose another disk');
    const [u] = conflicts(resolveDisks(pool({ name: 'tank', force, data: [{ kind: 'disk', disks: [{ disk: '/dev/vda' }] }] }), labDisks()));
    assert.equal(u!.type, 'DiskInUse');
    assert.match(u!.message, /^pool\.data\[0\]: \/dev\/vda \(256 GiB\) is in use \(vda is mounted at \/var\/mail\)/);
  }
});

test('a labelled disk is refused unless the pool says force; its own pool\'s disks are not "labelled"', () => {
  const spec = pool({ name: 'tank', data: [{ kind: 'mirror', disks: [{ disk: '/srv/disks/x-m1' }, { disk: '/srv/disks/x-r3' }] }] });
  const found = conflicts(resolveDisks(spec, labDisks()));
  assert.deepEqual(found.map((c) => c.type === 'DiskHoldsLabel' && [c.path, c.what]), [
    ['pool.data[0].mirror[0]', "a ZFS label of exported pool 'tank' (zpool import tank brings it back)"],
    ['pool.data[0].mirror[1]', 'an ext4 signature'],
  ]);
  assert.match(found[0]!.message, /choose another disk, or set the pool's force: true to overwrite it \(zpool create -f\)$/);
  assert.ok(resolveDisks({ ...spec, force: true }, labDisks()).ok);
  const own = resolveDisks(pool({ data: [{ kind: 'disk', disks: [{ disk: '/srv/disks/c8t1d0' }] }] }), labDisks());
  assert.ok(own.ok, 'sp1\'s own disk, for sp1');
});

test('a cache device must be a block device: the lab\'s c9t0d0 is one, a sparse file is not', () => {
  const disks = labDisks().map((d) => (d.pool === 'sp1' ? { ...d, pool: undefined } : d));
  const [c] = conflicts(resolveDisks(pool({ name: 'tank', cache: [{ disk: '/srv/disks/x-m3' }] }), disks));
  assert.equal(c!.type, 'CacheNotBlockDevice');
  assert.equal(c!.message, 'pool.cache[0]: /srv/disks/x-m3 is a plain file and ZFS takes only a block device as a cache device ("cache device must be a disk or disk slice"): choose a disk');
  assert.ok(resolveDisks(pool({ name: 'tank', cache: [{ disk: '/srv/disks/c9t0d0' }] }), disks).ok);
});

test('every conflict at once, with paths under a caller\'s prefix', () => {
  const spec = pool({
    name: 'tank',
    data: [{ kind: 'raidz', disks: [{ disk: '/srv/disks/x-m3' }, { disk: '/srv/disks/nope' }, { disk: '/srv/disks/x-r3' }] }],
    spares: [{ disk: '/srv/disks/c8t1d0' }],
  });
  const found = conflicts(resolveDisks(spec, labDisks(), { at: 'hosts[0].storageVm.pool' }));
  assert.deepEqual(found.map((c) => [c.type, 'path' in c ? c.path : '']), [
    ['NoDiskMatches', 'hosts[0].storageVm.pool.data[0].raidz[1]'],
    ['DiskHoldsLabel', 'hosts[0].storageVm.pool.data[0].raidz[2]'],
    ['DiskInAnotherPool', 'hosts[0].storageVm.pool.spares[0]'],
  ]);
});

test('a stable by-id name for a disk chosen by what it reports; the inventory\'s own name when it gave one', () => {
  const os = storageCommands.linux;
  const disks = assembleDisks(os.parseDiskListing(fixture('openzfs-disk-listing.txt')), new Map(), [], os.wholeDiskName);
  const result = resolveDisks(
    pool({ name: 'tank', data: [{ kind: 'mirror', disks: [{ serial: '6000c29a1b2c3d4e5f60718293a4b5c6' }, { disk: '/dev/sdc' }] }], log: [{ kind: 'disk', disks: [{ model: 'INTEL SSDPE21D280GA' }] }] }),
    disks,
  );
  assert.ok(result.ok);
  assert.deepEqual(result.data[0]!.disks.map((d) => d.device), ['/dev/disk/by-id/scsi-36000c29a1b2c3d4e5f60718293a4b5c6', '/dev/sdc']);
  assert.equal(result.log[0]!.disks[0]!.device, '/dev/disk/by-id/nvme-INTEL_SSDPE21D280GA_PHM2913000QM280AGN', 'not the nvme-eui one: sorted, readable first');
});

test('a malformed vdev is the inventory\'s bug, thrown', () => {
  assert.throws(() => resolveDisks(pool({ data: [{ kind: 'mirror', disks: [{ disk: 'c8t1d0' }] }] }), uss1Disks()), /pool\.data\[0\]: a mirror needs at least 2 disks/);
  assert.throws(() => resolveDisks(pool({ log: [{ kind: 'raidz', disks: [{ disk: 'c8t1d0' }, { disk: 'c11t0d0' }] }] }), uss1Disks()), /a log vdev is one disk or a mirror/);
});

test('the label probe runs disks side by side and prints them in the order given, past one batch', () => {
  const bin = mkdtempSync(join(tmpdir(), 'probe-bin-'));
  try {
    // The first disk's zdb answers last: its section must still come first.
    writeFileSync(join(bin, 'blkid'), '#!/bin/sh\nexit 2\n', { mode: 0o755 });
    writeFileSync(join(bin, 'zdb'), '#!/bin/sh\ncase "$2" in *d0*) sleep 0.3;; esac\necho "zdb read $2"\n', { mode: 0o755 });
    const names = Array.from({ length: PROBES_AT_ONCE + 3 }, (_, i) => `d${i}`);
    for (const os of ['linux', 'illumos'] as const) {
      const [sh, ...args] = storageCommands[os].labelProbe(names.map((name) => ({ name }) as never));
      const r = spawnSync(sh!, args, { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
      assert.equal(r.status, 0, `${os}: ${r.stderr}`);
      const read = [...r.stdout.matchAll(/^zdb read (\S+)$/gm)].map((m) => m[1]);
      const device = (n: string) => (os === 'linux' ? n : `/dev/dsk/${n}s0`);
      assert.deepEqual(read, names.map(device), os);
      assert.deepEqual([...r.stdout.matchAll(/^@@ zdb (\S+)$/gm)].map((m) => m[1]), names, os);
    }
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('linux: zdb reads only a device whose label areas are not all zeros (first 512 KiB, last 768 KiB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'probe-zeros-'));
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'blkid'), '#!/bin/sh\nexit 2\n', { mode: 0o755 });
    writeFileSync(join(bin, 'zdb'), '#!/bin/sh\necho "zdb read $2"\n', { mode: 0o755 });
    const MiB = 1024 * 1024;
    // name: [size, offset of one non-zero byte (none: all zeros)]
    const disks: Record<string, [number, number | undefined]> = {
      blank: [4 * MiB + 4096, undefined],
      middle: [4 * MiB, 2 * MiB],
      label1: [4 * MiB, 300 * 1024],
      label3: [4 * MiB + 4096, 4 * MiB - 100 * 1024],
      lastAligned: [4 * MiB + 100 * 1024, 4 * MiB - 400 * 1024],
      small: [512 * 1024, undefined],
    };
    for (const [name, [size, at]] of Object.entries(disks)) {
      const file = join(dir, name);
      writeFileSync(file, '');
      truncateSync(file, size);
      if (at !== undefined) {
        const fd = openSync(file, 'r+');
        writeSync(fd, Buffer.from([1]), 0, 1, at);
        closeSync(fd);
      }
    }
    const names = Object.keys(disks).map((n) => join(dir, n));
    const [sh, ...args] = storageCommands.linux.labelProbe(names.map((name) => ({ name }) as never));
    const r = spawnSync(sh!, args, { env: { PATH: `${bin}:/usr/bin:/bin:/usr/sbin:/sbin` }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const read = [...r.stdout.matchAll(/^zdb read \S+\/(\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(read, ['label1', 'label3', 'lastAligned', 'small']);
    assert.deepEqual([...r.stdout.matchAll(/^@@ zeros \S+\/(\w+)$/gm)].map((m) => m[1]), ['blank', 'middle']);
    const probed = parseLabelProbe(r.stdout);
    assert.deepEqual(probed.get(join(dir, 'blank')), {}, 'all zeros: nothing held');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the label probe exits 0 when the last disk has no label (zdb -l exits 1 there): a blank disk is an answer', () => {
  const bin = mkdtempSync(join(tmpdir(), 'probe-bin-'));
  try {
    // Stand-ins that answer as blkid and zdb do on a blank disk: nothing found, exit 2 and 1.
    writeFileSync(join(bin, 'blkid'), '#!/bin/sh\nexit 2\n', { mode: 0o755 });
    writeFileSync(join(bin, 'zdb'), '#!/bin/sh\necho "failed to unpack label 0"\nexit 1\n', { mode: 0o755 });
    for (const os of ['linux', 'illumos'] as const) {
      const [sh, ...args] = storageCommands[os].labelProbe([{ name: 'c8t1d0' } as never, { name: 'blank0' } as never]);
      const r = spawnSync(sh!, args, { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
      assert.equal(r.status, 0, `${os}: ${r.stderr}`);
      assert.match(r.stdout, /@@ zdb \S*blank0[\s\S]*failed to unpack label 0/, os);
    }
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
