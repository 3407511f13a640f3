import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRetention, type RetentionInput } from '../../core/zfs/retention';
import { snapshotName } from '../../core/zfs/snapshot-name';
import type { Snapshot } from '../../core/zfs/snapshot';

const P = 'esxi-zfs';
let txg = 100;

/** One of ours, named for `iso`; createtxg increases in call order. */
function ours(iso: string, extra: Partial<Snapshot> = {}): Snapshot {
  const date = new Date(iso);
  txg += 10;
  return {
    dataset: 'sp1/nas/vol0',
    name: snapshotName(P, date),
    guid: String(5_000_000 + txg),
    createtxg: String(txg),
    creation: date.getTime() / 1000,
    userrefs: 0,
    ...extra,
  };
}

function foreign(name: string): Snapshot {
  txg += 10;
  return { dataset: 'sp1/nas/vol0', name, guid: String(9_000_000 + txg), createtxg: String(txg), creation: 1_795_577_870, userrefs: 0 };
}

/** 20 daily snapshots at 23:59 UTC, 2026-11-06 .. 2026-11-25, oldest first. */
function twentyDays(): Snapshot[] {
  return Array.from({ length: 20 }, (_, i) => ours(`2026-11-${String(6 + i).padStart(2, '0')}T23:59:00Z`));
}

const NOW = new Date('2026-11-26T06:00:00Z');
const retain = (input: Partial<RetentionInput> & Pick<RetentionInput, 'snapshots' | 'rules'>) =>
  planRetention({ prefix: P, protect: [], now: NOW, ...input });
const names = (list: Snapshot[]) => list.map((s) => s.name);

test('daily 7 over 20 daily snapshots prunes exactly the 13 oldest', () => {
  const snapshots = twentyDays();
  const result = retain({ snapshots, rules: { daily: 7 } });
  assert.deepEqual(names(result.prune), names(snapshots.slice(0, 13)));
  assert.deepEqual(names(result.keep), names(snapshots.slice(13)));
  assert.equal(result.reasons['esxi-zfs_20261119T235900Z'], 'daily: newest of 2026-11-19');
  assert.equal(result.reasons['esxi-zfs_20261118T235900Z'], 'ours, not kept by rules (daily 7)');
  assert.equal(result.reasons['esxi-zfs_20261125T235900Z'], 'newest of ours; daily: newest of 2026-11-25');
});

test('input order does not matter: createtxg orders, output is oldest first', () => {
  const snapshots = twentyDays();
  const result = retain({ snapshots: [...snapshots].reverse(), rules: { daily: 7 } });
  assert.deepEqual(names(result.prune), names(snapshots.slice(0, 13)));
  assert.deepEqual(names(result.keep), names(snapshots.slice(13)));
});

test('periods count back over days that have snapshots, not from now', () => {
  // Snapshots stopped two weeks ago: daily 7 still keeps the last 7 days that have one.
  const snapshots = twentyDays();
  const result = retain({ snapshots, rules: { daily: 7 }, now: new Date('2026-12-10T00:00:00Z') });
  assert.equal(result.prune.length, 13);
});

test('several snapshots in one day: the newest of the day is kept', () => {
  const morning = ours('2026-11-24T08:00:00Z');
  const evening = ours('2026-11-24T20:00:00Z');
  const today = ours('2026-11-25T08:00:00Z');
  const result = retain({ snapshots: [morning, evening, today], rules: { daily: 2 } });
  assert.deepEqual(names(result.keep), names([evening, today]));
  assert.deepEqual(names(result.prune), names([morning]));
});

test('weekly buckets by ISO week (Monday to Sunday, UTC)', () => {
  const saturday = ours('2026-11-28T23:59:00Z'); // 2026-W48
  const sunday = ours('2026-11-29T23:59:00Z'); // 2026-W48
  const monday = ours('2026-11-30T00:30:00Z'); // 2026-W49
  const result = retain({ snapshots: [saturday, sunday, monday], rules: { weekly: 2 }, now: new Date('2026-12-01T00:00:00Z') });
  // Sunday-start weeks would keep Saturday and prune Sunday instead.
  assert.deepEqual(names(result.keep), names([sunday, monday]));
  assert.deepEqual(names(result.prune), names([saturday]));
  assert.equal(result.reasons[sunday.name], 'weekly: newest of 2026-W48');
  assert.equal(result.reasons[monday.name], 'newest of ours; weekly: newest of 2026-W49');
});

test('weekly across a year end: ISO week-numbering year', () => {
  const w52 = ours('2024-12-29T12:00:00Z'); // Sunday, 2024-W52
  const w01a = ours('2024-12-30T12:00:00Z'); // Monday, 2025-W01
  const w01b = ours('2025-01-05T12:00:00Z'); // Sunday, 2025-W01
  const result = retain({ snapshots: [w52, w01a, w01b], rules: { weekly: 2 }, now: new Date('2025-01-06T00:00:00Z') });
  assert.deepEqual(names(result.keep), names([w52, w01b]));
  assert.deepEqual(names(result.prune), names([w01a]));
  assert.equal(result.reasons[w01b.name], 'newest of ours; weekly: newest of 2025-W01');
});

test('hourly and monthly buckets are UTC hours and calendar months', () => {
  const a = ours('2026-10-31T22:10:00Z');
  const b = ours('2026-10-31T22:50:00Z');
  const c = ours('2026-10-31T23:05:00Z');
  const d = ours('2026-11-01T00:01:00Z');
  const hourly = retain({ snapshots: [a, b, c, d], rules: { hourly: 2 } });
  assert.deepEqual(names(hourly.keep), names([c, d]));
  const hourly3 = retain({ snapshots: [a, b, c, d], rules: { hourly: 3 } });
  assert.deepEqual(names(hourly3.keep), names([b, c, d]));
  const monthly = retain({ snapshots: [a, b, c, d], rules: { monthly: 2 } });
  assert.deepEqual(names(monthly.keep), names([c, d]));
  assert.equal(monthly.reasons[c.name], 'monthly: newest of 2026-10');
});

test('keep N keeps the newest N; rules combine as a union', () => {
  const snapshots = twentyDays();
  const keep3 = retain({ snapshots, rules: { keep: 3 } });
  assert.deepEqual(names(keep3.keep), names(snapshots.slice(17)));
  const union = retain({ snapshots, rules: { keep: 2, weekly: 3 } });
  // 2026-11-06 .. 2026-11-25: ISO weeks 45 (Fri 6 - Sun 8), 46 (9-15), 47 (16-22), 48 (23-25).
  // weekly 3 keeps the newest of W48, W47, W46: the 25th, 22nd and 15th; keep 2 adds the 24th.
  assert.deepEqual(
    names(union.keep),
    ['20261115', '20261122', '20261124', '20261125'].map((d) => `esxi-zfs_${d}T235900Z`),
  );
});

test('the protected common base is never pruned, however old', () => {
  const snapshots = twentyDays();
  const base = snapshots[0] as Snapshot;
  const result = retain({ snapshots, rules: { daily: 7 }, protect: [base.guid] });
  assert.equal(result.prune.length, 12);
  assert.ok(!result.prune.includes(base));
  assert.equal(result.reasons[base.name], 'protected');
});

test('foreign snapshots are never pruned', () => {
  const mine = twentyDays();
  const theirs = [
    foreign('31-04-10-23:59'), // the runbook's cron names
    foreign('esxi-zfs_manual'),
    foreign('esxi-zfs_20261131T235900Z'), // looks like ours but is no date
    foreign('autosnap_2026-11-01_00:00:00_daily'),
    foreign('zrepl_20261101_000000_000'),
  ];
  const result = retain({ snapshots: [...theirs.slice(0, 2), ...mine, ...theirs.slice(2)], rules: { daily: 1 } });
  assert.equal(result.prune.length, 19);
  for (const s of theirs) {
    assert.ok(result.keep.includes(s), s.name);
    assert.equal(result.reasons[s.name], 'not ours (not named esxi-zfs_YYYYMMDDTHHMMSSZ)');
  }
});

test('held snapshots (userrefs > 0) are never pruned', () => {
  const snapshots = twentyDays();
  const held = { ...(snapshots[2] as Snapshot), userrefs: 2 };
  snapshots[2] = held;
  const result = retain({ snapshots, rules: { daily: 7 } });
  assert.equal(result.prune.length, 12);
  assert.ok(result.keep.includes(held));
  assert.equal(result.reasons[held.name], 'held (2 holds)');
});

test('empty rules prune nothing', () => {
  const snapshots = twentyDays();
  const result = retain({ snapshots, rules: {} });
  assert.deepEqual(result.prune, []);
  assert.equal(result.keep.length, 20);
  assert.equal(result.reasons[(snapshots[0] as Snapshot).name], 'no retention rules');
});

test('the newest of ours is always kept, even by rules that keep nothing', () => {
  const snapshots = twentyDays();
  const newest = snapshots[19] as Snapshot;
  for (const rules of [{ keep: 0 }, { daily: 0 }]) {
    const result = retain({ snapshots, rules });
    assert.deepEqual(names(result.keep), [newest.name]);
    assert.equal(result.prune.length, 19);
  }
});

test('a name timed after now (a wrong clock) is kept and does not push real days out', () => {
  const snapshots = twentyDays();
  const future = ours('2030-01-01T00:00:00Z');
  const result = retain({ snapshots: [...snapshots, future], rules: { daily: 2 } });
  assert.deepEqual(names(result.keep), names([...snapshots.slice(18), future]));
  assert.match(result.reasons[future.name] ?? '', /time after now/);
});

test('bad rules and mixed datasets are refused', () => {
  const snapshots = twentyDays();
  assert.throws(() => retain({ snapshots, rules: { daily: -1 } }), /daily: -1 is not a count/);
  assert.throws(() => retain({ snapshots, rules: { weekly: 1.5 } }), /weekly: 1.5 is not a count/);
  assert.throws(
    () => retain({ snapshots: [...snapshots, { ...(snapshots[0] as Snapshot), dataset: 'sp1/other' }], rules: {} }),
    /span datasets/,
  );
});

test('a name timed exactly at now is counted by the rules; one second later is not', () => {
  const d24 = ours('2026-11-24T23:59:00Z');
  const d25 = ours('2026-11-25T23:59:00Z');
  const atNow = ours(NOW.toISOString());
  const result = retain({ snapshots: [d24, d25, atNow], rules: { daily: 2 } });
  assert.deepEqual(names(result.keep), names([d25, atNow]));
  assert.deepEqual(names(result.prune), names([d24]));
  assert.equal(result.reasons[atNow.name], 'newest of ours; daily: newest of 2026-11-26');

  const later = retain({ snapshots: [d24, d25, atNow], rules: { daily: 2 }, now: new Date(NOW.getTime() - 1000) });
  assert.deepEqual(later.prune, [], 'not counted: d24 and d25 are the two newest days');
  assert.equal(later.reasons[atNow.name], 'newest of ours; named with a time after now (clock skew?): not counted by rules');
});

test('clock stepped back between days: periods rank by the time in the name, not by createtxg', () => {
  // Taken in this (createtxg) order; the clock went back five days before the last one.
  const old = ours('2026-11-19T12:00:00Z');
  const d24 = ours('2026-11-24T12:00:00Z');
  const d25 = ours('2026-11-25T12:00:00Z');
  const stepped = ours('2026-11-20T12:00:00Z');
  const result = retain({ snapshots: [old, d24, d25, stepped], rules: { daily: 2 } });
  assert.deepEqual(names(result.keep), names([d24, d25, stepped]));
  assert.deepEqual(names(result.prune), names([old]));
  assert.equal(result.reasons[d25.name], 'daily: newest of 2026-11-25');
  assert.equal(result.reasons[d24.name], 'daily: newest of 2026-11-24');
  assert.equal(result.reasons[stepped.name], 'newest of ours', 'newest by createtxg, but its day is not among the 2 most recent');
  const three = retain({ snapshots: [old, d24, d25, stepped], rules: { daily: 3 } });
  assert.equal(three.reasons[stepped.name], 'newest of ours; daily: newest of 2026-11-20');
  assert.equal(three.reasons[old.name], 'ours, not kept by rules (daily 3)');
});

test('clock stepped back within a period: the newest of the period is the newest by createtxg', () => {
  const first = ours('2026-11-25T12:00:00Z');
  const second = ours('2026-11-25T08:00:00Z'); // later txg, earlier clock
  const third = ours('2026-11-25T09:00:00Z');
  const daily = retain({ snapshots: [first, second, third], rules: { daily: 1 } });
  assert.deepEqual(names(daily.prune), names([first, second]), 'the day\'s newest is the last taken, not the latest clock');
  assert.equal(daily.reasons[third.name], 'newest of ours; daily: newest of 2026-11-25');
  const hourly = retain({ snapshots: [first, second, third], rules: { hourly: 2 } });
  assert.deepEqual(names(hourly.prune), names([second]), 'the two most recent hours are 12 and 09');
  assert.equal(hourly.reasons[first.name], 'hourly: newest of 2026-11-25T12');
  assert.equal(hourly.reasons[third.name], 'newest of ours; hourly: newest of 2026-11-25T09');
  const keep = retain({ snapshots: [first, second, third], rules: { keep: 2 } });
  assert.deepEqual(names(keep.keep), names([second, third]), 'keep N counts by createtxg');
  assert.equal(keep.reasons[second.name], 'keep: 2 of newest 2');
  assert.equal(keep.reasons[third.name], 'newest of ours; keep: 1 of newest 2');
});

test('reasons name every rule of a pruned snapshot, and holds in the singular', () => {
  const snapshots = twentyDays();
  snapshots[0] = { ...(snapshots[0] as Snapshot), userrefs: 1 };
  const result = retain({ snapshots, rules: { keep: 2, weekly: 3 } });
  assert.equal(result.reasons[(snapshots[0] as Snapshot).name], 'held (1 hold)');
  assert.equal(result.reasons[(snapshots[1] as Snapshot).name], 'ours, not kept by rules (keep 2, weekly 3)');
});

test('no snapshots of ours: foreign ones are kept and nothing fails', () => {
  const theirs = [foreign('manual-1'), foreign('manual-2')];
  for (const rules of [{}, { keep: 1 }, { daily: 1 }]) {
    const result = retain({ snapshots: theirs, rules });
    assert.deepEqual(result.keep, theirs);
    assert.deepEqual(result.prune, []);
  }
  assert.deepEqual(retain({ snapshots: [], rules: { daily: 7 } }), { keep: [], prune: [], reasons: {} });
});

test('years before 1000 are zero-padded in period keys, as in the names', () => {
  const a = ours('0999-01-05T12:00:00Z'); // 0999-W01
  const b = ours('0999-01-12T12:00:00Z'); // 0999-W02
  const result = retain({ snapshots: [a, b], rules: { daily: 2, weekly: 2 }, now: new Date('2026-01-01T00:00:00Z') });
  assert.equal(result.reasons[a.name], 'daily: newest of 0999-01-05; weekly: newest of 0999-W01');
  assert.equal(result.reasons[b.name], 'newest of ours; daily: newest of 0999-01-12; weekly: newest of 0999-W02');
});

test('mixed datasets are refused naming them', () => {
  const snapshots = twentyDays();
  assert.throws(
    () => retain({ snapshots: [...snapshots, { ...(snapshots[0] as Snapshot), dataset: 'sp1/other' }], rules: {} }),
    { message: 'planRetention: snapshots span datasets sp1/nas/vol0, sp1/other' },
  );
});
