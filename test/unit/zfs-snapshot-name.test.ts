import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOurs, parseOurTime, snapshotName } from '../../core/zfs/snapshot-name';

const P = 'esxi-zfs';

test('snapshotName: prefix, UTC basic ISO 8601 timestamp, seconds precision', () => {
  assert.equal(snapshotName(P, new Date('2026-11-25T23:59:00Z')), 'esxi-zfs_20261125T235900Z');
  // The same instant written with an offset gives the same UTC name.
  assert.equal(snapshotName(P, new Date('2026-11-25T17:59:00-06:00')), 'esxi-zfs_20261125T235900Z');
  assert.equal(snapshotName(P, new Date('2026-01-02T03:04:05.999Z')), 'esxi-zfs_20260102T030405Z');
});

test('parseOurTime round-trips snapshotName', () => {
  const date = new Date('2026-02-28T07:08:09Z');
  assert.deepEqual(parseOurTime(P, snapshotName(P, date)), date);
});

test('names sort by time as plain text', () => {
  const dates = ['2026-11-25T23:59:00Z', '2026-11-26T00:00:01Z', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'];
  const names = dates.map((d) => snapshotName(P, new Date(d)));
  assert.deepEqual([...names].reverse().sort(), names);
});

test('isOurs: only exactly prefix_YYYYMMDDTHHMMSSZ with a real date', () => {
  assert.equal(isOurs(P, 'esxi-zfs_20261125T235900Z'), true);
  for (const name of [
    '31-04-10-23:59', // the runbook's own names
    'esxi-zfs_manual',
    'esxi-zfs_20261125T235900', // no Z
    'esxi-zfs_20261125T235900Zx',
    'esxi-zfs-20261125T235900Z',
    'esxi-zfs_2026-11-25T23:59:00Z',
    'esxi-zfs_20261131T235900Z', // November 31st
    'esxi-zfs_20261125T240000Z', // 24:00
    'esxi-zfs_20260229T000000Z', // not a leap year
    'zrepl_20261125_235900_000',
    'ESXI-ZFS_20261125T235900Z',
  ]) {
    assert.equal(isOurs(P, name), false, name);
    assert.equal(parseOurTime(P, name), undefined, name);
  }
  assert.equal(isOurs(P, 'esxi-zfs_20280229T000000Z'), true);
});

test('isOurs: one prefix does not claim another that starts with it', () => {
  assert.equal(isOurs('esxi', 'esxi-zfs_20261125T235900Z'), false);
  assert.equal(isOurs('esxi-zfs', 'esxi-zfs2_20261125T235900Z'), false);
  assert.equal(isOurs('esxi-zfs2', 'esxi-zfs2_20261125T235900Z'), true);
});

test('prefix is validated: [A-Za-z0-9][A-Za-z0-9._-]*, at most 64', () => {
  const now = new Date('2026-11-25T23:59:00Z');
  for (const bad of ['', '-x', '.x', '_x', 'a b', 'a/b', 'a@b', 'a:b', 'x'.repeat(65)]) {
    assert.throws(() => snapshotName(bad, now), /prefix/, JSON.stringify(bad));
    assert.throws(() => isOurs(bad, 'anything'), /prefix/, JSON.stringify(bad));
  }
  assert.equal(snapshotName('a.b_c-9', now), 'a.b_c-9_20261125T235900Z');
  assert.equal(snapshotName('x'.repeat(64), now).length, 64 + 17);
});

test('snapshotName rejects an invalid date', () => {
  assert.throws(() => snapshotName(P, new Date('not a date')), /not a date/);
});

test('four-digit years 0000-9999, zero-padded; years outside are refused', () => {
  const jan1 = (year: number) => {
    const date = new Date(Date.UTC(2000, 0, 1));
    date.setUTCFullYear(year);
    return date;
  };
  assert.equal(snapshotName(P, jan1(0)), 'esxi-zfs_00000101T000000Z');
  assert.equal(snapshotName(P, jan1(999)), 'esxi-zfs_09990101T000000Z');
  assert.equal(snapshotName(P, jan1(9999)), 'esxi-zfs_99990101T000000Z');
  assert.deepEqual(parseOurTime(P, 'esxi-zfs_09990101T000000Z'), jan1(999));
  assert.deepEqual(parseOurTime(P, 'esxi-zfs_00000101T000000Z'), jan1(0), 'Date.UTC would have made year 0 into 1900');
  for (const year of [-1, 10000]) {
    assert.throws(() => snapshotName(P, jan1(year)), /is not a date with a four-digit year/, String(year));
  }
});
