/**
 * Golden command plans for the storage half of configureStorage: the runbook's own uss1 on
 * illumos (cannot run here: checked as data, on samples in illumos's formats), and Linux pools
 * (a mirror with log and cache on OpenZFS, a raidz and the lab's own pool on zfs-fuse, whose
 * outputs were captured on a lab host). Each from blank, then against the finished state: nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSpec, PoolSpec } from '../../core/configure/shared';
import { guestProfile } from '../../core/guest/profile';
import { parseDatasetFacts, planDatasets, type DatasetFacts } from '../../core/guest/storage/datasets';
import { dedupMemoryWarning, usableBytes } from '../../core/guest/storage/dedup';
import { resolveDisks } from '../../core/guest/storage/disks';
import { assembleDisks } from '../../core/guest/storage/guest-disk';
import { storageCommands } from '../../core/guest/storage/os';
import { parsePoolStatus } from '../../core/guest/storage/pool-layout';
import { planPool } from '../../core/guest/storage/pool-plan';
import { planShares, sharenfsDialect } from '../../core/guest/storage/shares';
import type { OsProfile } from '../../core/hosts';
import type { PoolVersion } from '../../core/zfs/capabilities';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/guest', name), 'utf8');

interface GuestOutputs {
  listing: string;
  probe: string;
  zpoolStatus: string;
  zfsGet: string;
}

/** The three planners in configureStorage's order, fed as an activity would feed them. */
function storagePlan(os: OsProfile, poolVersion: PoolVersion, pool: PoolSpec, datasets: DatasetSpec[], outputs: GuestOutputs) {
  const commands = storageCommands[os];
  const profile = guestProfile(os);
  const layouts = parsePoolStatus(outputs.zpoolStatus);
  const disks = assembleDisks(commands.parseDiskListing(outputs.listing), commands.parseLabelProbe(outputs.probe), layouts, commands.wholeDiskName);
  const resolved = resolveDisks(pool, disks);
  if (!resolved.ok) return { conflicts: resolved.conflicts.map((c) => c.message) };
  const poolPlan = planPool(pool, resolved, layouts.find((l) => l.name === pool.name), profile);
  if (!poolPlan.ok) return { conflicts: [poolPlan.conflict.message] };
  const facts: DatasetFacts = parseDatasetFacts(outputs.zfsGet);
  const datasetPlan = planDatasets(datasets, facts, profile);
  const sharenfs = new Map(datasets.map((d) => [d.name, facts.get(d.name)?.get('sharenfs')]));
  const sharePlan = planShares(datasets, sharenfs, { zfs: profile.zfs, dialect: sharenfsDialect(os, poolVersion) });
  return {
    commands: [...poolPlan.commands, ...datasetPlan.commands, ...sharePlan.commands].map((c) => c.argv),
    warnings: [...poolPlan.warnings, ...datasetPlan.warnings, ...sharePlan.warnings],
    dedupDataBytes: usableBytes(resolved.data),
  };
}

const spec = (overrides: Partial<PoolSpec>): PoolSpec => ({ name: 'sp1', data: [], log: [], cache: [], spares: [], properties: {}, force: false, ...overrides });

const USS1_POOL = spec({ data: [{ kind: 'disk', disks: [{ disk: 'c8t1d0' }] }], log: [{ kind: 'disk', disks: [{ disk: 'c11t0d0' }] }] });
const USS1_DATASETS: DatasetSpec[] = [
  {
    name: 'sp1/nas/vol0',
    mountpoint: '/export/uss1-nas-vol0',
    properties: { dedup: 'on' },
    share: { rw: true, ro: [], nosuid: true, root: ['vh3-nas', 'vh2-nas', 'vh1-nas', 'vh0-nas'] },
  },
];
const USS1_BLANK: GuestOutputs = {
  listing: fixture('illumos-disk-listing.txt'),
  probe: fixture('illumos-label-probe-blank.txt'),
  zpoolStatus: fixture('illumos-zpool-status-blank.txt'),
  zfsGet: '',
};

test('golden, illumos (cannot run here): the runbook\'s uss1 from blank is the runbook\'s commands', () => {
  const plan = storagePlan('illumos', 22, USS1_POOL, USS1_DATASETS, USS1_BLANK);
  assert.deepEqual(plan, {
    commands: [
      // zpool create sp1 c8t1d0 log c11t0d0
      ['/usr/sbin/zpool', 'create', 'sp1', 'c8t1d0', 'log', 'c11t0d0'],
      // zfs create -p sp1/nas/vol0; zfs set mountpoint=/export/uss1-nas-vol0 sp1/nas/vol0 (one command here), and dedup
      ['/usr/sbin/zfs', 'create', '-p', '-o', 'mountpoint=/export/uss1-nas-vol0', '-o', 'dedup=on', 'sp1/nas/vol0'],
      // zfs set sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas sp1/nas/vol0
      ['/usr/sbin/zfs', 'set', 'sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:vh1-nas:vh0-nas', 'sp1/nas/vol0'],
    ],
    warnings: [],
    dedupDataBytes: 256 * 2 ** 30,
  });
  assert.equal(dedupMemoryWarning(4, plan.dedupDataBytes!), undefined, 'the runbook\'s 4 GB VM and its 256 GB disk meet the dedup rule');
});

test('golden, illumos: the runbook\'s finished uss1 (zpool status, zfs get) needs nothing', () => {
  const plan = storagePlan('illumos', 22, USS1_POOL, USS1_DATASETS, {
    ...USS1_BLANK,
    zpoolStatus: fixture('illumos-zpool-status-finished.txt'),
    zfsGet: fixture('illumos-zfs-get-finished.txt'),
  });
  assert.deepEqual(plan.commands, []);
  assert.deepEqual(plan.warnings, []);
});

test('golden, illumos: the runbook\'s DDRdrive chosen by model, and c8t1d0 holding an exported pool: refused, then forced', () => {
  const byModel = { ...USS1_POOL, log: [{ kind: 'disk' as const, disks: [{ model: 'DDRDRIVE-X1' }] }] };
  const exported = USS1_BLANK.probe.replace("@@ zdb c8t1d0\ncannot open '/dev/dsk/c8t1d0s0': No such device or address", "@@ zdb c8t1d0\n------------------------------------\nLABEL 0\n------------------------------------\n    version: 22\n    name: 'sp1'\n    state: 1\n    pool_guid: 1234\n");
  assert.notEqual(exported, USS1_BLANK.probe);
  assert.deepEqual(storagePlan('illumos', 22, byModel, [], { ...USS1_BLANK, probe: exported }), {
    conflicts: ["pool.data[0]: c8t1d0 (256 GiB, VMware Virtual disk) holds a ZFS label of exported pool 'sp1' (zpool import sp1 brings it back): choose another disk, or set the pool's force: true to overwrite it (zpool create -f)"],
  });
  assert.deepEqual(storagePlan('illumos', 22, { ...byModel, force: true }, [], { ...USS1_BLANK, probe: exported }).commands, [
    ['/usr/sbin/zpool', 'create', '-f', 'sp1', 'c8t1d0', 'log', 'c11t0d0'],
  ]);
});

const TANK_POOL = spec({
  name: 'tank',
  data: [{ kind: 'mirror', disks: [{ serial: '6000c29a1b2c3d4e5f60718293a4b5c6' }, { serial: '6000c29b7c6d5e4f3a2b1c0d9e8f7a6b' }] }],
  log: [{ kind: 'disk', disks: [{ model: 'INTEL SSDPE21D280GA' }] }],
  cache: [{ model: 'Samsung SSD 870' }],
  properties: { ashift: '12' },
});
const TANK_BLANK: GuestOutputs = { listing: fixture('openzfs-disk-listing.txt'), probe: '', zpoolStatus: 'no pools available\n', zfsGet: '' };

test('golden, Linux (OpenZFS sample): a mirror with log and cache, chosen by serial and model, built from stable by-id names', () => {
  const datasets: DatasetSpec[] = [{ name: 'tank/vm', mountpoint: '/tank/vm', properties: { compression: 'lz4', quota: '200G' }, share: { rw: ['esx1', 'esx2'], ro: [], nosuid: false, root: ['esx1', 'esx2'] } }];
  assert.deepEqual(storagePlan('linux', 'feature-flags', TANK_POOL, datasets, TANK_BLANK), {
    commands: [
      [
        'zpool', 'create', '-o', 'ashift=12', 'tank',
        'mirror', '/dev/disk/by-id/scsi-36000c29a1b2c3d4e5f60718293a4b5c6', '/dev/disk/by-id/scsi-36000c29b7c6d5e4f3a2b1c0d9e8f7a6b',
        'log', '/dev/disk/by-id/nvme-INTEL_SSDPE21D280GA_PHM2913000QM280AGN',
        'cache', '/dev/disk/by-id/ata-Samsung_SSD_870_EVO_1TB_S6PTNM0T512345A',
      ],
      ['zfs', 'create', '-p', '-o', 'mountpoint=/tank/vm', '-o', 'compression=lz4', '-o', 'quota=200G', 'tank/vm'],
      ['zfs', 'set', 'sharenfs=rw=esx1:esx2,no_root_squash', 'tank/vm'],
    ],
    warnings: [],
    dedupDataBytes: 256 * 2 ** 30,
  });
  const inPlace = storagePlan('linux', 'feature-flags', TANK_POOL, [], { ...TANK_BLANK, zpoolStatus: fixture('openzfs-zpool-status-tank.txt') });
  assert.deepEqual(inPlace.commands, []);
});

test('golden, Linux (OpenZFS sample): the system disk, mounted, is never a candidate; a partitioned disk needs force', () => {
  const wide = spec({ name: 'tank', data: [{ kind: 'disk', disks: [{ model: 'Virtual disk', minBytes: 16 * 2 ** 30, maxBytes: 20 * 2 ** 30 }] }] });
  assert.deepEqual(storagePlan('linux', 'feature-flags', wide, [], TANK_BLANK), {
    conflicts: ['pool.data[0]: /dev/sda (16.0 GiB, Virtual disk, serial 6000c2997f5c1a2d3e4f5a6b7c8d9e0f) is in use (sda1 is mounted at /boot/efi): it can never be part of a pool: choose another disk'],
  });
  const sde = spec({ name: 'tank', data: [{ kind: 'disk', disks: [{ disk: '/dev/sde' }] }] });
  assert.match(storagePlan('linux', 'feature-flags', sde, [], TANK_BLANK).conflicts![0]!, /holds partitions sde1 \(zfs_member\), sde9/);
  assert.deepEqual(storagePlan('linux', 'feature-flags', { ...sde, force: true }, [], TANK_BLANK).commands, [['zpool', 'create', '-f', 'tank', '/dev/sde']]);
});

const LAB_OUTPUTS: GuestOutputs = {
  listing: fixture('zfs-fuse-disk-listing.txt'),
  probe: fixture('zfs-fuse-label-probe.txt'),
  zpoolStatus: fixture('zfs-fuse-zpool-status-sp1.txt'),
  zfsGet: fixture('zfs-fuse-zfs-get-finished.txt'),
};

test('golden, Linux (zfs-fuse, captured): a raidz pool of three sparse files, from blank and in place', () => {
  const rz = spec({ name: 'rz', data: [{ kind: 'raidz', disks: ['x-r1', 'x-r2', 'x-m3'].map((f) => ({ disk: `/srv/disks/${f}` })) }] });
  assert.deepEqual(storagePlan('linux', 23, rz, [], LAB_OUTPUTS).commands, [['zpool', 'create', 'rz', 'raidz', '/srv/disks/x-r1', '/srv/disks/x-r2', '/srv/disks/x-m3']]);
  const captured = spec({ name: 'rz', data: [{ kind: 'raidz', disks: ['x-r1', 'x-r2', 'x-r3'].map((f) => ({ disk: `/srv/disks/${f}` })) }] });
  const inPlace = storagePlan('linux', 23, captured, [], { ...LAB_OUTPUTS, probe: '', zpoolStatus: fixture('zfs-fuse-zpool-status-raidz.txt') });
  assert.deepEqual(inPlace.commands, []);
});

const LAB_POOL = spec({
  data: [{ kind: 'disk', disks: [{ disk: '/srv/disks/c8t1d0' }] }],
  log: [{ kind: 'disk', disks: [{ disk: '/srv/disks/c11t0d0' }] }],
  cache: [{ disk: '/srv/disks/c9t0d0' }],
});
const LAB_DATASETS: DatasetSpec[] = [
  { name: 'sp1/nas/vol0', mountpoint: '/export/uss1-nas-vol0', properties: { dedup: 'on' }, share: { rw: true, ro: [], nosuid: true, root: ['vh1-nas'] } },
];

test('golden, Linux (zfs-fuse, captured): the lab host\'s sp1 from blank, and in place', () => {
  const blank = storagePlan('linux', 23, LAB_POOL, LAB_DATASETS, { ...LAB_OUTPUTS, probe: '', zpoolStatus: 'no pools available\n', zfsGet: '' });
  assert.deepEqual(blank.commands, [
    ['zpool', 'create', 'sp1', '/srv/disks/c8t1d0', 'log', '/srv/disks/c11t0d0', 'cache', '/srv/disks/c9t0d0'],
    ['zfs', 'create', '-p', '-o', 'mountpoint=/export/uss1-nas-vol0', '-o', 'dedup=on', 'sp1/nas/vol0'],
    ['zfs', 'set', 'sharenfs=vh1-nas:rw,no_root_squash *:rw', 'sp1/nas/vol0'],
  ]);
  assert.deepEqual(blank.warnings, ['sp1/nas/vol0: nosuid: Linux NFS exports have no such option, so the server cannot enforce it (mount with nosuid on the clients; ESXi never runs files from a datastore)']);
  const inPlace = storagePlan('linux', 23, LAB_POOL, LAB_DATASETS, LAB_OUTPUTS);
  assert.deepEqual(inPlace.commands, []);
});
