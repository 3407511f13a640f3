import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takenAt } from '../../core/zfs/snapshot-name';

// 2026-12-03T17:00:00Z by the worker; the host's clock 5 h ahead stamped creation 22:00.
const hostAhead = Date.UTC(2026, 11, 3, 22) / 1000;

test('one of our snapshots was taken at the time in its name, whatever its creation (the host clock) says', () => {
  assert.equal(takenAt('esxi-zfs', { name: 'esxi-zfs_20261203T170000Z', creation: hostAhead }).toISOString(), '2026-12-03T17:00:00.000Z');
});

test('a snapshot not ours (another prefix, a name that does not parse) falls back to its creation', () => {
  for (const name of ['manual-before-upgrade', 'other_20261203T170000Z', 'esxi-zfs_20261331T170000Z']) {
    assert.equal(takenAt('esxi-zfs', { name, creation: hostAhead }).toISOString(), '2026-12-03T22:00:00.000Z', name);
  }
});
