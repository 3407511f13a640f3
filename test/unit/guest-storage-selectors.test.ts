/**
 * Disk selectors on their own: a vdev's shape, how a selector is described, what model, serial
 * and size match, the nearest disks named when none matches, and the stable name a disk chosen by
 * what it reports is built with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiskSelector, PoolSpec } from '../../core/configure/shared';
import { describeSelector, resolveDisks, vdevSpecProblem } from '../../core/guest/storage/disks';
import type { GuestDisk } from '../../core/guest/storage/guest-disk';

const GiB = 2 ** 30;
const disk = (name: string, sizeGiB: number, extra: Partial<GuestDisk> = {}): GuestDisk => ({ name, aliases: [], sizeBytes: sizeGiB * GiB, kind: 'block', ...extra });
const pool = (data: DiskSelector[]): PoolSpec => ({
  name: 'sp1', data: data.map((s) => ({ kind: 'disk', disks: [s] })), log: [], cache: [], spares: [], properties: {}, force: false,
});

function messages(selector: DiskSelector, disks: GuestDisk[]): string[] {
  const result = resolveDisks(pool([selector]), disks);
  return result.ok ? [] : result.conflicts.map((c) => c.message);
}

function device(selector: DiskSelector, disks: GuestDisk[]): string {
  const result = resolveDisks(pool([selector]), disks);
  assert.ok(result.ok, result.ok ? '' : result.conflicts.map((c) => c.message).join('\n'));
  return result.data[0]!.disks[0]!.device;
}

test('a vdev\'s shape: one disk in a disk vdev, enough in a group, a log of one disk or a mirror', () => {
  const a = { disk: 'a' };
  assert.equal(vdevSpecProblem({ kind: 'disk', disks: [a, a] }, 'data'), 'a disk vdev has exactly one disk');
  assert.equal(vdevSpecProblem({ kind: 'disk', disks: [] }, 'data'), 'a disk vdev has exactly one disk');
  assert.equal(vdevSpecProblem({ kind: 'mirror', disks: [a] }, 'data'), 'a mirror needs at least 2 disks');
  assert.equal(vdevSpecProblem({ kind: 'raidz', disks: [a] }, 'log'), 'a log vdev is one disk or a mirror, not raidz');
  assert.equal(vdevSpecProblem({ kind: 'disk', disks: [a] }, 'log'), undefined);
  assert.throws(
    () => resolveDisks({ ...pool([]), data: [{ kind: 'disk', disks: [a, a] }] }, [disk('a', 1)]),
    { message: "pool.data[0]: a disk vdev has exactly one disk (the inventory's checks let it through)" },
  );
});

test('a selector in words', () => {
  assert.equal(
    describeSelector({ disk: 'c8t1d0', model: 'X1', serial: 'S1', minBytes: GiB, maxBytes: 2 * GiB }),
    'disk "c8t1d0", model "X1", serial "S1", at least 1.00 GiB, at most 2.00 GiB',
  );
  assert.equal(describeSelector({ serial: 'S1' }), 'serial "S1"');
  assert.equal(describeSelector({}), 'any disk');
});

test('model by whole words whatever the case and separators; serial trimmed; size bounds inclusive', () => {
  const ddr = disk('c11t0d0', 4, { model: 'DDRDRIVE-X1-0030', serial: 'S1' });
  const x10 = disk('c12t0d0', 4, { model: 'DDRDRIVE X10' });
  const bare = disk('c13t0d0', 8);
  const all = [bare, ddr, x10];
  assert.equal(device({ model: 'ddrdrive_x1' }, all), 'c11t0d0');
  assert.equal(device({ model: 'DDRDRIVE  X10' }, all), 'c12t0d0');
  assert.equal(device({ serial: ' S1 ' }, all), 'c11t0d0');
  assert.equal(device({ minBytes: 8 * GiB }, all), 'c13t0d0');
  assert.deepEqual(messages({ minBytes: 4 * GiB, maxBytes: 4 * GiB }, all), [
    'pool.data[0]: at least 4.00 GiB, at most 4.00 GiB matches 2 disks: c11t0d0 (4.00 GiB, DDRDRIVE-X1-0030, serial S1); c12t0d0 (4.00 GiB, DDRDRIVE X10): add its serial, or name it by disk',
  ]);
});

test('no match: the nearest free disks by criteria met, then size, then name; or that there is no free disk', () => {
  const disks = [disk('/dev/sdb', 1, { model: 'A' }), disk('/dev/sdc', 2, { model: 'B' }), disk('/dev/sdd', 4, { model: 'A' }), disk('/dev/sde', 8)];
  assert.deepEqual(messages({ model: 'A', minBytes: 5 * GiB }, disks), [
    'pool.data[0]: no disk matches model "A", at least 5.00 GiB: nearest /dev/sdd (4.00 GiB, A); /dev/sde (8.00 GiB); /dev/sdb (1.00 GiB, A)',
  ]);
  assert.deepEqual(messages({ model: 'B', maxBytes: 1.5 * GiB }, disks), [
    'pool.data[0]: no disk matches model "B", at most 1.50 GiB: nearest /dev/sdb (1.00 GiB, A); /dev/sdc (2.00 GiB, B); /dev/sdd (4.00 GiB, A)',
  ]);
  const named = [disk('/srv/disks/y', 1, { aliases: ['/dev/sdx1'] }), disk('/dev/vdb', 1), disk('/dev/sdb', 1), disk('/srv/a', 1)];
  assert.deepEqual(messages({ disk: '/dev/sdx' }, named), [
    'pool.data[0]: no disk matches disk "/dev/sdx": nearest /srv/disks/y (1.00 GiB); /dev/sdb (1.00 GiB); /dev/vdb (1.00 GiB)',
  ]);
  assert.deepEqual(messages({ disk: '/dev/sdx' }, [disk('/dev/sdb', 1, { inUse: 'sdb is mounted at /' })]), [
    'pool.data[0]: no disk matches disk "/dev/sdx": the VM lists no free disk',
  ]);
});

test('chosen by what it reports: built by its by-id name (not a partition\'s), a wwn- name only when there is no other', () => {
  const byId = (...names: string[]) => names.map((n) => `/dev/disk/by-id/${n}`);
  const sdb = disk('/dev/sdb', 1, { serial: 'S1', aliases: ['/dev/a-link', ...byId('wwn-0x5000', 'zz-S1', 'ata-S1-part12', 'ata-part1-S1')] });
  assert.equal(device({ serial: 'S1' }, [sdb]), '/dev/disk/by-id/ata-part1-S1', 'a name with -partN inside is a disk\'s');
  assert.equal(device({ serial: 'S1' }, [{ ...sdb, aliases: byId('wwn-0x5000', 'zz-S1') }]), '/dev/disk/by-id/zz-S1');
  assert.equal(device({ serial: 'S1' }, [{ ...sdb, aliases: ['/dev/a-link', ...byId('wwn-0x5000', 'ata-S1-part1')] }]), '/dev/disk/by-id/wwn-0x5000');
  assert.equal(device({ serial: 'S1' }, [{ ...sdb, aliases: ['/dev/a-link', ...byId('ata-S1-part1')] }]), '/dev/sdb');
  assert.equal(device({ disk: '/dev/a-link' }, [sdb]), '/dev/a-link', 'a disk named exactly is built by that name');
});
