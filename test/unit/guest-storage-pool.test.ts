/**
 * Pool layouts from `zpool status` (captured on zfs-fuse; illumos and OpenZFS samples in their
 * format) and planPool: create, nothing, add, or PoolLayoutDiffers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolSpec } from '../../core/configure/shared';
import { resolveDisks, type ResolvedPool } from '../../core/guest/storage/disks';
import { assembleDisks, type GuestDisk } from '../../core/guest/storage/guest-disk';
import { storageCommands } from '../../core/guest/storage/os';
import { describeLayout, parsePoolStatus, type PoolLayout } from '../../core/guest/storage/pool-layout';
import { planPool } from '../../core/guest/storage/pool-plan';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/guest', name), 'utf8');
const LINUX = { os: 'linux' as const, zpool: 'zpool' };

test('zfs-fuse (captured): a disk vdev with log and cache; mirrors with a mirrored log and a spare; raidz1', () => {
  assert.deepEqual(parsePoolStatus(fixture('zfs-fuse-zpool-status-sp1.txt')), [
    { name: 'sp1', data: [{ kind: 'disk', devices: ['/srv/disks/c8t1d0'] }], log: [{ kind: 'disk', devices: ['/srv/disks/c11t0d0'] }], cache: ['/srv/disks/c9t0d0'], spares: [], special: [] },
  ]);
  assert.deepEqual(parsePoolStatus(fixture('zfs-fuse-zpool-status-mirror-log-spare.txt')), [
    {
      name: 'tank',
      data: [{ kind: 'mirror', devices: ['/srv/disks/x-m1', '/srv/disks/x-m2'] }, { kind: 'mirror', devices: ['/srv/disks/x-m3', '/srv/disks/x-m4'] }],
      log: [{ kind: 'mirror', devices: ['/srv/disks/x-l1', '/srv/disks/x-l2'] }],
      cache: [],
      spares: ['/srv/disks/x-s1'],
      special: [],
    },
  ]);
  assert.deepEqual(parsePoolStatus(fixture('zfs-fuse-zpool-status-raidz.txt'))[0]!.data, [{ kind: 'raidz', devices: ['/srv/disks/x-r1', '/srv/disks/x-r2', '/srv/disks/x-r3'] }]);
  assert.deepEqual(parsePoolStatus(fixture('zfs-fuse-zpool-status-all.txt')).map((p) => p.name), ['rz', 'sp1', 'tank']);
  assert.deepEqual(parsePoolStatus('no pools available\n'), []);
});

test('illumos (sample): rpool on a slice, sp1 with its log; OpenZFS (sample): by-id names, a trailing tab after "logs"', () => {
  const [rpool, sp1] = parsePoolStatus(fixture('illumos-zpool-status-finished.txt'));
  assert.deepEqual(rpool!.data, [{ kind: 'disk', devices: ['c8t0d0s0'] }]);
  assert.equal(describeLayout(sp1!), 'sp1: c8t1d0; log c11t0d0');
  const [tank] = parsePoolStatus(fixture('openzfs-zpool-status-tank.txt'));
  assert.equal(
    describeLayout(tank!),
    'tank: mirror(scsi-36000c29a1b2c3d4e5f60718293a4b5c6, scsi-36000c29b7c6d5e4f3a2b1c0d9e8f7a6b); log nvme-INTEL_SSDPE21D280GA_PHM2913000QM280AGN; cache ata-Samsung_SSD_870_EVO_1TB_S6PTNM0T512345A',
  );
});

test('a spare in use and a replacement in progress count as devices of their top-level vdev; special vdevs are kept', () => {
  const status = `  pool: tank
 state: DEGRADED
config:

	NAME          STATE     READ WRITE CKSUM
	tank          DEGRADED     0     0     0
	  mirror-0    DEGRADED     0     0     0
	    sdb       ONLINE       0     0     0
	    spare-1   DEGRADED     0     0     0
	      sdc     FAULTED      0     0     0  too many errors
	      sdf     ONLINE       0     0     0
	  replacing-1 DEGRADED     0     0     0
	    sdd       OFFLINE      0     0     0
	    sdg       ONLINE       0     0     0  (resilvering)
	special
	  mirror-2    ONLINE       0     0     0
	    nvme0n1   ONLINE       0     0     0
	    nvme1n1   ONLINE       0     0     0
	spares
	  sdf         INUSE     currently in use

errors: No known data errors
`;
  assert.deepEqual(parsePoolStatus(status), [
    {
      name: 'tank',
      data: [{ kind: 'mirror', devices: ['sdb', 'sdc', 'sdf'] }, { kind: 'disk', devices: ['sdd', 'sdg'] }],
      log: [],
      cache: [],
      spares: ['sdf'],
      special: [{ kind: 'mirror', devices: ['nvme0n1', 'nvme1n1'] }],
    },
  ]);
  assert.throws(() => parsePoolStatus('  pool: x\n state: ONLINE\n'), /no config header/);
  assert.throws(() => parsePoolStatus('  pool: x\nconfig:\n\tNAME STATE\n\tx ONLINE\n\tweird\n'), /unknown vdev class "weird"/);
});

function labDisks(status: string): GuestDisk[] {
  const os = storageCommands.linux;
  return assembleDisks(os.parseDiskListing(fixture('zfs-fuse-disk-listing.txt')), new Map(), parsePoolStatus(status), os.wholeDiskName);
}

function resolved(spec: PoolSpec, disks: readonly GuestDisk[]): ResolvedPool {
  const result = resolveDisks(spec, disks);
  if (!result.ok) assert.fail(result.conflicts.map((c) => c.message).join('\n'));
  return result;
}

const spec = (overrides: Partial<PoolSpec>): PoolSpec => ({ name: 'tank', data: [], log: [], cache: [], spares: [], properties: {}, force: false, ...overrides });
const disk = (path: string) => ({ disk: `/srv/disks/${path}` });

const LAB_POOL = spec({ name: 'sp1', data: [{ kind: 'disk', disks: [disk('c8t1d0')] }], log: [{ kind: 'disk', disks: [disk('c11t0d0')] }], cache: [disk('c9t0d0')] });

test('lab pool sp1 from blank: one zpool create, data, log and cache in order', () => {
  const plan = planPool(LAB_POOL, resolved(LAB_POOL, labDisks('no pools available\n')), undefined, LINUX);
  assert.ok(plan.ok);
  assert.deepEqual(plan.commands, [
    { argv: ['zpool', 'create', 'sp1', '/srv/disks/c8t1d0', 'log', '/srv/disks/c11t0d0', 'cache', '/srv/disks/c9t0d0'], change: 'created pool sp1: /srv/disks/c8t1d0; log /srv/disks/c11t0d0; cache /srv/disks/c9t0d0' },
  ]);
  assert.deepEqual(plan.found, ['pool sp1 does not exist']);
});

test('lab pool sp1 in place (captured zpool status): nothing to do, the layout found', () => {
  const status = fixture('zfs-fuse-zpool-status-sp1.txt');
  const [existing] = parsePoolStatus(status);
  const plan = planPool(LAB_POOL, resolved(LAB_POOL, labDisks(status)), existing, LINUX);
  assert.deepEqual(plan, { ok: true, commands: [], found: ['pool sp1: /srv/disks/c8t1d0; log /srv/disks/c11t0d0; cache /srv/disks/c9t0d0'], warnings: [] });
});

test('an existing pool gains the log, cache and spare the spec adds, and nothing else', () => {
  const status = '  pool: sp1\n state: ONLINE\nconfig:\n\n\tNAME                 STATE     READ WRITE CKSUM\n\tsp1                  ONLINE       0     0     0\n\t  /srv/disks/c8t1d0  ONLINE       0     0     0\n\nerrors: No known data errors\n';
  const wanted = { ...LAB_POOL, log: [{ kind: 'mirror' as const, disks: [disk('x-l1'), disk('x-l2')] }, { kind: 'disk' as const, disks: [disk('c11t0d0')] }], spares: [disk('x-s1')] };
  const plan = planPool(wanted, resolved(wanted, labDisks(status)), parsePoolStatus(status)[0], LINUX);
  assert.ok(plan.ok);
  assert.deepEqual(plan.commands.map((c) => c.argv), [
    ['zpool', 'add', 'sp1', 'log', '/srv/disks/c11t0d0', 'mirror', '/srv/disks/x-l1', '/srv/disks/x-l2'],
    ['zpool', 'add', 'sp1', 'cache', '/srv/disks/c9t0d0'],
    ['zpool', 'add', 'sp1', 'spare', '/srv/disks/x-s1'],
  ]);
  assert.deepEqual(plan.commands.map((c) => c.change), [
    'added log mirror(/srv/disks/x-l1, /srv/disks/x-l2), /srv/disks/c11t0d0 to pool sp1',
    'added cache /srv/disks/c9t0d0 to pool sp1',
    'added spare /srv/disks/x-s1 to pool sp1',
  ]);
});

test('any other difference is PoolLayoutDiffers with both layouts, and no command', () => {
  const status = fixture('zfs-fuse-zpool-status-mirror-log-spare.txt');
  const [existing] = parsePoolStatus(status);
  const disks = labDisks(status);
  const same = spec({
    data: [{ kind: 'mirror', disks: [disk('x-m4'), disk('x-m3')] }, { kind: 'mirror', disks: [disk('x-m1'), disk('x-m2')] }],
    log: [{ kind: 'mirror', disks: [disk('x-l1'), disk('x-l2')] }],
    spares: [disk('x-s1')],
  });
  const inPlace = planPool(same, resolved(same, disks), existing, LINUX);
  assert.ok(inPlace.ok && inPlace.commands.length === 0, 'vdevs and their disks in another order are the same layout');
  const cases: [string, PoolSpec][] = [
    ['a device swapped', { ...same, data: [same.data[0]!, { kind: 'mirror', disks: [disk('x-m1'), disk('x-m5')] }] }],
    ['mirrors wanted as stripes', { ...same, data: ['x-m1', 'x-m2', 'x-m3', 'x-m4'].map((d) => ({ kind: 'disk' as const, disks: [disk(d)] })) }],
    ['a log the spec does not have', { ...same, log: [] }],
    ['a spare the spec does not have', { ...same, spares: [] }],
  ];
  for (const [why, wanted] of cases) {
    const plan = planPool(wanted, resolved(wanted, disks), existing, LINUX);
    assert.equal(plan.ok, false, why);
    if (plan.ok) continue;
    assert.equal(plan.conflict.type, 'PoolLayoutDiffers');
    assert.deepEqual(plan.conflict.found, existing, `${why}: found in disk names (here the printed ones)`);
    assert.match(plan.conflict.message, /^pool tank exists with another layout than the inventory's, and esxi-zfs never changes an existing pool's data vdevs or removes a device: found tank: mirror\(/);
  }
});

test('zpool create: one-disk vdevs before groups (a group takes every device after it), -o properties, -f only when forced over a label', () => {
  const probe = storageCommands.linux.parseLabelProbe(fixture('zfs-fuse-label-probe.txt'));
  const os = storageCommands.linux;
  const disks = assembleDisks(os.parseDiskListing(fixture('zfs-fuse-disk-listing.txt')), probe, [], os.wholeDiskName);
  const wanted = spec({ data: [{ kind: 'mirror', disks: [disk('x-m1'), disk('x-m2')] }, { kind: 'disk', disks: [disk('x-m3')] }], properties: { ashift: '12', autoexpand: 'on' }, force: true });
  const plan = planPool(wanted, resolved(wanted, disks), undefined, LINUX);
  assert.ok(plan.ok);
  assert.deepEqual(plan.commands[0]!.argv, ['zpool', 'create', '-f', '-o', 'ashift=12', '-o', 'autoexpand=on', 'tank', '/srv/disks/x-m3', 'mirror', '/srv/disks/x-m1', '/srv/disks/x-m2']);
  assert.match(plan.commands[0]!.change, /\(force: overwrote \/srv\/disks\/x-m1's a ZFS label of exported pool 'tank'/);
  const blank = spec({ data: [{ kind: 'disk', disks: [disk('x-m3')] }], force: true });
  const noLabel = planPool(blank, resolved(blank, disks), undefined, LINUX);
  assert.ok(noLabel.ok);
  assert.deepEqual(noLabel.commands[0]!.argv, ['zpool', 'create', 'tank', '/srv/disks/x-m3'], 'force, but nothing seen to override: ZFS keeps its own checks');
});

test('OpenZFS (sample): a pool built from by-id names matches zpool status\'s short names, sdb1-style partitions too', () => {
  const os = storageCommands.linux;
  const status = fixture('openzfs-zpool-status-tank.txt');
  const disks = assembleDisks(os.parseDiskListing(fixture('openzfs-disk-listing.txt')), new Map(), parsePoolStatus(status), os.wholeDiskName);
  const wanted = spec({
    data: [{ kind: 'mirror', disks: [{ disk: '/dev/sdb' }, { serial: '6000c29b7c6d5e4f3a2b1c0d9e8f7a6b' }] }],
    log: [{ kind: 'disk', disks: [{ model: 'INTEL SSDPE21D280GA' }] }],
    cache: [{ model: 'Samsung SSD 870' }],
  });
  const plan = planPool(wanted, resolved(wanted, disks), parsePoolStatus(status)[0], LINUX);
  assert.deepEqual(plan, { ok: true, commands: [], found: ['pool tank: mirror(/dev/sdb, /dev/sdc); log /dev/nvme0n1; cache /dev/sdd'], warnings: [] });
  const partitions = parsePoolStatus(status.replace('scsi-36000c29a1b2c3d4e5f60718293a4b5c6 ', 'sdb1').replace('ata-Samsung_SSD_870_EVO_1TB_S6PTNM0T512345A ', 'ata-Samsung_SSD_870_EVO_1TB_S6PTNM0T512345A-part1'))[0] as PoolLayout;
  assert.deepEqual([partitions.data[0]!.devices[0], partitions.cache[0]], ['sdb1', 'ata-Samsung_SSD_870_EVO_1TB_S6PTNM0T512345A-part1']);
  const again = planPool(wanted, resolved(wanted, disks), partitions, LINUX);
  assert.ok(again.ok && again.commands.length === 0);
});
