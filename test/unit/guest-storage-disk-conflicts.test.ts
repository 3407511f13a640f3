/** resolveDisks's conflicts as objects (what the workflow reports), and the inventory paths of what it resolved. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolSpec } from '../../core/configure/shared';
import { resolveDisks } from '../../core/guest/storage/disks';
import type { GuestDisk } from '../../core/guest/storage/guest-disk';

const GiB = 2 ** 30;
const disk = (name: string, extra: Partial<GuestDisk> = {}): GuestDisk => ({ name, aliases: [], sizeBytes: GiB, kind: 'block', ...extra });
const spec = (overrides: Partial<PoolSpec>): PoolSpec => ({ name: 'sp1', data: [], log: [], cache: [], spares: [], properties: {}, force: false, ...overrides });

test('the one matching disk is mounted: DiskInUse, not "in imported pool undefined"', () => {
  const sdb = disk('/dev/sdb', { model: 'M', inUse: 'sdb1 is mounted at /boot' });
  const result = resolveDisks(spec({ data: [{ kind: 'disk', disks: [{ model: 'M' }] }] }), [sdb, disk('/dev/sdc')]);
  assert.deepEqual(result, {
    ok: false,
    conflicts: [{
      type: 'DiskInUse', path: 'pool.data[0]', disk: sdb, what: 'sdb1 is mounted at /boot',
      message: 'pool.data[0]: /dev/sdb (1.00 GiB, M) is in use (sdb1 is mounted at /boot): it can never be part of a pool: choose another disk',
    }],
  });
});

test('matches only taken disks: those are named, no nearest ones', () => {
  const a = disk('/dev/sdb', { model: 'M', pool: 'other' });
  const b = disk('/dev/sdc', { model: 'M', inUse: 'swap' });
  const result = resolveDisks(spec({ data: [{ kind: 'disk', disks: [{ model: 'M' }] }] }), [a, b, disk('/dev/sdd')]);
  assert.deepEqual(result.ok ? [] : result.conflicts, [{
    type: 'NoDiskMatches', path: 'pool.data[0]', selector: { model: 'M' }, near: [], taken: [a, b],
    message: 'pool.data[0]: model "M" matches only disks that are taken: /dev/sdb (in imported pool other); /dev/sdc (swap)',
  }]);
});

test('the nearest disks leave out those other selectors chose', () => {
  const sdb = disk('/dev/sdb', { serial: 'S1' });
  const sdc = disk('/dev/sdc', { sizeBytes: 2 * GiB });
  const result = resolveDisks(spec({ data: [{ kind: 'disk', disks: [{ serial: 'S1' }] }, { kind: 'disk', disks: [{ serial: 'S9' }] }] }), [sdb, sdc]);
  assert.deepEqual(result.ok ? [] : result.conflicts.map((c) => c.type === 'NoDiskMatches' && c.near), [[sdc]]);
});

test('resolved vdevs, cache and spares keep their inventory paths; a spare that matches nothing is named by its path', () => {
  const disks = [disk('/dev/sdb'), disk('/dev/sdc'), disk('/dev/sdd')];
  const result = resolveDisks(
    spec({ data: [{ kind: 'disk', disks: [{ disk: '/dev/sdb' }] }], cache: [{ disk: '/dev/sdc' }], spares: [{ disk: '/dev/sdd' }] }),
    disks,
    { at: 'hosts[1].storageVm.pool' },
  );
  assert.ok(result.ok);
  assert.deepEqual(
    [result.data[0]!.path, result.data[0]!.disks[0]!.path, result.cache[0]!.path, result.spares[0]!.path],
    ['hosts[1].storageVm.pool.data[0]', 'hosts[1].storageVm.pool.data[0]', 'hosts[1].storageVm.pool.cache[0]', 'hosts[1].storageVm.pool.spares[0]'],
  );
  const missing = resolveDisks(spec({ data: [{ kind: 'disk', disks: [{ disk: '/dev/sdb' }] }], spares: [{ disk: '/dev/sdz' }] }), disks);
  assert.deepEqual(missing.ok ? [] : missing.conflicts.map((c) => c.message), [
    'pool.spares[0]: no disk matches disk "/dev/sdz": nearest /dev/sdc (1.00 GiB); /dev/sdd (1.00 GiB)',
  ]);
});

test('a model with blanks around it is the same words', () => {
  const ddr = disk('c11t0d0', { model: 'DDRDRIVE-X1-0030' });
  const result = resolveDisks(spec({ log: [{ kind: 'disk', disks: [{ model: 'DDRDRIVE X1 ' }] }] }), [ddr]);
  assert.ok(result.ok);
  assert.equal(result.log[0]!.disks[0]!.disk, ddr);
});
