import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeConflict, planReplication, type PlanInput } from '../../core/zfs/plan';
import type { Snapshot } from '../../core/zfs/snapshot';

const SRC = 'sp1/nas/vol0';
const TGT = 'sp2/nas/vol0';
const ctx = { source: { host: 'uss1', dataset: SRC }, target: { host: 'uss2', dataset: TGT } };

const snap = (dataset: string, name: string, guid: string, createtxg: string, creation = 1795577870): Snapshot => ({
  dataset,
  name,
  guid,
  createtxg,
  creation,
  userrefs: 0,
});
const src = (name: string, guid: string, txg: string, creation?: number) => snap(SRC, name, guid, txg, creation);
const tgt = (name: string, guid: string, txg: string, creation?: number) => snap(TGT, name, guid, txg, creation);

const defaults = { sendIntermediates: true, rollbackAllowed: false };
const plan = (input: Partial<PlanInput> & Pick<PlanInput, 'source' | 'target'>) => planReplication({ ...defaults, ...input });

// Source txgs are large, target txgs small and unrelated: the pools never compare.
const A = src('a', '11', '1000');
const B = src('b', '12', '1010');
const C = src('c', '13', '1020');
const D = src('d', '14', '1030');
const tA = tgt('a', '11', '40');
const tB = tgt('b', '12', '45');
const tC = tgt('c', '13', '52');

test('full send of the newest source snapshot when the target dataset is absent', () => {
  assert.deepEqual(plan({ source: [C, A, B], target: null }), { plan: { kind: 'full', snapshot: C } });
});

test('up-to-date when the newest source snapshot is on the target', () => {
  assert.deepEqual(plan({ source: [A, B], target: [tA, tB] }), { plan: { kind: 'up-to-date', base: B, baseOnTarget: tB } });
});

test('incremental from the newest common snapshot to the newest source snapshot; -I vs -i', () => {
  assert.deepEqual(plan({ source: [A, B, C, D], target: [tA, tB], sendIntermediates: true }), {
    plan: { kind: 'incremental', base: B, baseOnTarget: tB, target: D, intermediates: true },
  });
  assert.deepEqual(plan({ source: [A, B, C, D], target: [tA, tB], sendIntermediates: false }), {
    plan: { kind: 'incremental', base: B, baseOnTarget: tB, target: D, intermediates: false },
  });
});

test('target already holding intermediate source snapshots: base is the newest common one', () => {
  assert.deepEqual(plan({ source: [A, B, C, D], target: [tA, tB, tC] }), {
    plan: { kind: 'incremental', base: C, baseOnTarget: tC, target: D, intermediates: true },
  });
  // Older snapshots pruned on either side do not matter.
  assert.deepEqual(plan({ source: [C, D], target: [tB, tC] }), {
    plan: { kind: 'incremental', base: C, baseOnTarget: tC, target: D, intermediates: true },
  });
});

test('a snapshot renamed on the target still matches by guid', () => {
  const renamed = tgt('before-migration', '12', '45');
  assert.deepEqual(plan({ source: [A, B, C], target: [tA, renamed] }), {
    plan: { kind: 'incremental', base: B, baseOnTarget: renamed, target: C, intermediates: true },
  });
});

test('a same-named snapshot with another guid does not match', () => {
  const impostor = tgt('b', '99', '45');
  const result = plan({ source: [A, B, C], target: [impostor], rollbackAllowed: true });
  assert.deepEqual(result, {
    plan: { kind: 'conflict', conflict: { type: 'NoCommonSnapshot', sourceSnapshots: ['a', 'b', 'c'], targetSnapshots: ['b'] } },
  });
  // ...and when a real common snapshot is older, the impostor is a newer target-only snapshot.
  const diverged = plan({ source: [A, B, C], target: [tA, impostor] });
  assert.equal(diverged.plan.kind, 'conflict');
  assert.deepEqual(diverged.plan.kind === 'conflict' && diverged.plan.conflict, {
    type: 'TargetDiverged',
    base: A,
    baseOnTarget: tA,
    newerOnTarget: [impostor],
  });
});

test('clock skew: creation times reversed, createtxg decides newest and base', () => {
  // The source's clock went backwards: the newest snapshot has the oldest creation time.
  const old = src('x', '21', '500', 1_900_000_000);
  const mid = src('y', '22', '600', 1_800_000_000);
  const newest = src('z', '23', '700', 1_700_000_000);
  assert.deepEqual(plan({ source: [old, mid, newest], target: null }), { plan: { kind: 'full', snapshot: newest } });
  // The target host's clock is skewed too; its creation times say nothing either.
  const tOld = tgt('x', '21', '5', 1_600_000_000);
  const tMid = tgt('y', '22', '9', 2_000_000_000);
  assert.deepEqual(plan({ source: [newest, old, mid], target: [tMid, tOld] }), {
    plan: { kind: 'incremental', base: mid, baseOnTarget: tMid, target: newest, intermediates: true },
  });
});

test('divergence uses the target pool\'s own txg, never the source\'s', () => {
  // Target txg 47 is below the source base's txg (1010) but above the base's target txg (45):
  // it is newer than the base on the target.
  const local = tgt('operator-test', '77', '47');
  const result = plan({ source: [A, B, C], target: [tA, tB, local] });
  assert.deepEqual(result, {
    plan: { kind: 'conflict', conflict: { type: 'TargetDiverged', base: B, baseOnTarget: tB, newerOnTarget: [local] } },
  });
  // Target txg 42 is below the base's target txg: an older target-only snapshot is no divergence.
  const olderLocal = tgt('older-local', '78', '42');
  assert.deepEqual(plan({ source: [A, B, C], target: [tA, olderLocal, tB] }), {
    plan: { kind: 'incremental', base: B, baseOnTarget: tB, target: C, intermediates: true },
  });
});

test('target with snapshots newer than the base → target-diverged naming them (oldest first)', () => {
  const x = tgt('x', '81', '50');
  const y = tgt('y', '82', '60');
  const result = plan({ source: [A, B, C], target: [tA, y, tB, x] });
  assert.equal(result.rollbackTo, undefined);
  assert.ok(result.plan.kind === 'conflict' && result.plan.conflict.type === 'TargetDiverged');
  const conflict = result.plan.conflict;
  assert.deepEqual(conflict.newerOnTarget, [x, y]);
  const message = describeConflict(conflict, ctx);
  assert.match(message, /^Target sp2\/nas\/vol0 on uss2 has 2 snapshots newer than the common base @b: @x, @y\./);
  assert.match(message, /a rollback to @b, which destroys them/);
  assert.match(message, /Nothing was sent and the target was not changed \(this run's new snapshot stays on the source/);
  assert.match(message, /replication\.rollback: true/);
  assert.match(message, /zfs destroy sp2\/nas\/vol0@<name> on uss2/);
});

test('target written since the base (`written` > 0) → target-modified', () => {
  const result = plan({ source: [A, B, C], target: [tA, tB], targetWrittenSinceBase: 1_572_864 });
  assert.deepEqual(result, {
    plan: { kind: 'conflict', conflict: { type: 'TargetModified', base: B, baseOnTarget: tB, writtenBytes: 1_572_864 } },
  });
  assert.ok(result.plan.kind === 'conflict');
  const message = describeConflict(result.plan.conflict, ctx);
  assert.match(message, /^Target sp2\/nas\/vol0 on uss2 has 1\.50 MiB \(1572864 bytes\) written since the common base @b/);
  assert.match(message, /zfs rollback sp2\/nas\/vol0@b on uss2/);
  assert.match(message, /zfs clone sp2\/nas\/vol0@b/);
  // Zero written, or unknown (ZFS without `written`: receive itself refuses), is no conflict here.
  for (const written of [0, undefined]) {
    assert.deepEqual(plan({ source: [A, B, C], target: [tA, tB], targetWrittenSinceBase: written }), {
      plan: { kind: 'incremental', base: B, baseOnTarget: tB, target: C, intermediates: true },
    });
  }
});

test('target-modified detected by zfs receive (no byte count) still reads well', () => {
  const message = describeConflict({ type: 'TargetModified', base: B, baseOnTarget: tB }, ctx);
  assert.match(message, /^Target sp2\/nas\/vol0 on uss2 has been written to since the common base @b:/);
});

test('no common snapshot → conflict, never a rollback even when rollback is allowed', () => {
  const other = [tgt('p', '91', '10'), tgt('q', '92', '20')];
  for (const rollbackAllowed of [false, true]) {
    const result = plan({ source: [A, B], target: other, rollbackAllowed });
    assert.deepEqual(result, {
      plan: { kind: 'conflict', conflict: { type: 'NoCommonSnapshot', sourceSnapshots: ['a', 'b'], targetSnapshots: ['p', 'q'] } },
    });
  }
  // An existing target without snapshots cannot take a full stream without -F either.
  assert.deepEqual(plan({ source: [A], target: [], rollbackAllowed: true }), {
    plan: { kind: 'conflict', conflict: { type: 'NoCommonSnapshot', sourceSnapshots: ['a'], targetSnapshots: [] } },
  });
});

test('describeConflict: no common snapshot names both sides and calls out same-name, different-guid', () => {
  const message = describeConflict(
    { type: 'NoCommonSnapshot', sourceSnapshots: ['a', 'b'], targetSnapshots: ['b', 'q'] },
    ctx,
  );
  assert.match(message, /^Target sp2\/nas\/vol0 on uss2 exists but shares no snapshot with source sp1\/nas\/vol0 on uss1/);
  assert.match(message, /@b exists on both sides under the same name but with different guids/);
  assert.match(message, /Source snapshots: @a, @b\. Target snapshots: @b, @q\./);
  assert.match(message, /zfs destroy -r sp2\/nas\/vol0 on uss2/);
  assert.match(message, /a rollback cannot help/);
  const empty = describeConflict({ type: 'NoCommonSnapshot', sourceSnapshots: ['a'], targetSnapshots: [] }, ctx);
  assert.match(empty, /Target snapshots: none\./);
});

test('describeConflict: long lists are cut after 10 names', () => {
  const names = Array.from({ length: 25 }, (_, i) => `s${i}`);
  const message = describeConflict({ type: 'NoCommonSnapshot', sourceSnapshots: names, targetSnapshots: [] }, ctx);
  assert.match(message, /Source snapshots: @s0, @s1, .*@s9 and 15 more\./);
});

test('rollback allowed: the plan proceeds and rollbackTo is exactly the base as it is on the target', () => {
  const x = tgt('x', '81', '50');
  const diverged = plan({ source: [A, B, C], target: [tA, tB, x], rollbackAllowed: true });
  assert.deepEqual(diverged, { plan: { kind: 'incremental', base: B, baseOnTarget: tB, target: C, intermediates: true }, rollbackTo: tB });

  const modified = plan({ source: [A, B, C], target: [tA, tB], targetWrittenSinceBase: 4096, rollbackAllowed: true });
  assert.deepEqual(modified, { plan: { kind: 'incremental', base: B, baseOnTarget: tB, target: C, intermediates: true }, rollbackTo: tB });

  // A renamed base: the rollback names the target-side snapshot (same guid).
  const renamed = tgt('kept-name', '12', '45');
  const result = plan({ source: [A, B, C], target: [tA, renamed, x], rollbackAllowed: true });
  assert.deepEqual(result.rollbackTo, renamed);
  assert.equal(result.rollbackTo?.guid, B.guid);

  // Allowed but not needed: no rollback.
  assert.equal(plan({ source: [A, B, C], target: [tA, tB], rollbackAllowed: true }).rollbackTo, undefined);
});

test('divergence is reported even when up-to-date; with rollback allowed the rollback rides along', () => {
  const x = tgt('x', '81', '50');
  assert.deepEqual(plan({ source: [A, B], target: [tA, tB, x] }), {
    plan: { kind: 'conflict', conflict: { type: 'TargetDiverged', base: B, baseOnTarget: tB, newerOnTarget: [x] } },
  });
  assert.deepEqual(plan({ source: [A, B], target: [tA, tB, x], rollbackAllowed: true }), {
    plan: { kind: 'up-to-date', base: B, baseOnTarget: tB },
    rollbackTo: tB,
  });
});

test('describeConflict names a renamed base on both sides', () => {
  const renamed = tgt('kept-name', '12', '45');
  const x = tgt('x', '81', '50');
  const result = plan({ source: [A, B, C], target: [renamed, x] });
  assert.ok(result.plan.kind === 'conflict');
  assert.match(
    describeConflict(result.plan.conflict, ctx),
    /newer than the common base @kept-name \(sp1\/nas\/vol0@b on the source, renamed\): @x\. .*a rollback to @kept-name/,
  );
});

test('64-bit guids beyond 2^53 are compared exactly', () => {
  const s = src('a', '18446744073709551615', '100');
  const near = tgt('a', '18446744073709551614', '5');
  assert.equal(Number(s.guid), Number(near.guid));
  assert.equal(plan({ source: [s], target: [near] }).plan.kind, 'conflict');
  const same = tgt('a', '18446744073709551615', '5');
  assert.deepEqual(plan({ source: [s], target: [same] }), { plan: { kind: 'up-to-date', base: s, baseOnTarget: same } });
});

test('createtxg beyond 2^53 orders exactly', () => {
  const older = src('older', '1', '9007199254740992');
  const newer = src('newer', '2', '9007199254740993');
  assert.deepEqual(plan({ source: [newer, older], target: null }), { plan: { kind: 'full', snapshot: newer } });
});

test('source without snapshots → source-has-no-snapshot, whatever the target', () => {
  for (const target of [null, [], [tA]]) {
    const result = plan({ source: [], target, rollbackAllowed: true });
    assert.deepEqual(result, { plan: { kind: 'conflict', conflict: { type: 'SourceHasNoSnapshot' } } });
  }
  assert.match(
    describeConflict({ type: 'SourceHasNoSnapshot' }, ctx),
    /^Source sp1\/nas\/vol0 on uss1 has no snapshot, so there is nothing to send\./,
  );
});

test('bad input is refused: mixed datasets, negative written', () => {
  assert.throws(() => plan({ source: [A, snap('sp1/other', 'b', '12', '1010')], target: null }), /source snapshots span datasets/);
  assert.throws(() => plan({ source: [A], target: [tA], targetWrittenSinceBase: -1 }), /not a byte count/);
});

test('bad input is refused with the side and the datasets named', () => {
  assert.throws(
    () => plan({ source: [A, snap('sp1/other', 'b', '12', '1010')], target: null }),
    { message: 'planReplication: source snapshots span datasets sp1/nas/vol0, sp1/other' },
  );
  assert.throws(
    () => plan({ source: [A], target: [tA, snap('sp2/other', 'b', '12', '45')] }),
    { message: 'planReplication: target snapshots span datasets sp2/nas/vol0, sp2/other' },
  );
});

// Golden texts: an operator reads these in the failure of a run, so every sentence is pinned.
const REFUSED = 'Nothing was sent and the target was not changed (this run\'s new snapshot stays on the source, and retention prunes it like any other).';
const ROLLBACK = 'allow rollback for this dataset in the inventory (its replicateTo\'s rollback: true, or replication.rollback: true for every dataset)';

test('describeConflict golden text: source without snapshot', () => {
  assert.equal(
    describeConflict({ type: 'SourceHasNoSnapshot' }, ctx),
    'Source sp1/nas/vol0 on uss1 has no snapshot, so there is nothing to send. ' +
      'The run takes a snapshot before planning: check that step\'s result and the dataset name in the inventory.',
  );
});

test('describeConflict golden text: no common snapshot, and the same-name sentence only when names collide', () => {
  const text = (sameName: string) =>
    'Target sp2/nas/vol0 on uss2 exists but shares no snapshot with source sp1/nas/vol0 on uss1 (snapshots are matched by guid, not by name). ' +
    sameName +
    'Source snapshots: @a, @b. Target snapshots: @q. ' +
    'An incremental send needs a common snapshot and a full send needs the target to be absent; ' +
    `a rollback cannot help without a common snapshot. ${REFUSED} ` +
    'Choices: (1) if the target holds nothing you need, destroy it (zfs destroy -r sp2/nas/vol0 on uss2) and the next run sends a full copy; ' +
    '(2) to keep it, rename it away (zfs rename sp2/nas/vol0 sp2/nas/vol0-old on uss2) and the next run sends a full copy; ' +
    '(3) replicate to another target dataset in the inventory.';
  assert.equal(describeConflict({ type: 'NoCommonSnapshot', sourceSnapshots: ['a', 'b'], targetSnapshots: ['q'] }, ctx), text(''));
  const one = describeConflict({ type: 'NoCommonSnapshot', sourceSnapshots: ['a', 'b'], targetSnapshots: ['b'] }, ctx);
  assert.match(one, /\(snapshots are matched by guid, not by name\)\. @b exists on both sides under the same name but with different guids, so not as the same snapshot: the target was created or received independently\. Source snapshots:/);
  const two = describeConflict({ type: 'NoCommonSnapshot', sourceSnapshots: ['a', 'b'], targetSnapshots: ['a', 'b'] }, ctx);
  assert.match(two, /\. @a, @b exist on both sides under the same name/);
});

test('describeConflict golden text: target diverged (one snapshot: singular)', () => {
  const x = tgt('x', '81', '50');
  assert.equal(
    describeConflict({ type: 'TargetDiverged', base: B, baseOnTarget: tB, newerOnTarget: [x] }, ctx),
    'Target sp2/nas/vol0 on uss2 has 1 snapshot newer than the common base @b: @x. ' +
      'The source does not have them; making the target follow the source again means a rollback to @b, which destroys them. ' +
      `${REFUSED} ` +
      'Choices: (1) keep them: copy what you need out of them (zfs clone, or zfs send them elsewhere), then destroy them yourself ' +
      '(zfs destroy sp2/nas/vol0@<name> on uss2, one per snapshot); the next run continues from @b; ' +
      `(2) ${ROLLBACK} so the run rolls back to @b, destroying them; (3) replicate to a new target dataset (a full send) and retire this one.`,
  );
});

test('describeConflict golden text: target modified; byte counts below 1 KiB stay in bytes', () => {
  const text = (what: string) =>
    `Target sp2/nas/vol0 on uss2 has ${what} since the common base @b: the replica was changed in place (e.g. mounted and tested without cloning). ` +
    `Receiving needs a rollback to @b, which discards those writes. ${REFUSED} ` +
    'Choices: (1) keep the writes: copy what you need off the target, then roll it back yourself (zfs rollback sp2/nas/vol0@b on uss2); ' +
    `(2) ${ROLLBACK} so the run rolls back to @b, discarding them; (3) replicate to a new target dataset (a full send) and retire this one. ` +
    'To test a replica without changing it, clone a snapshot (zfs clone sp2/nas/vol0@b <pool>/clones/...), as the runbook does.';
  const modified = (writtenBytes?: number) => describeConflict({ type: 'TargetModified', base: B, baseOnTarget: tB, writtenBytes }, ctx);
  assert.equal(modified(512), text('512 bytes written'));
  assert.equal(modified(1023), text('1023 bytes written'));
  assert.equal(modified(1024), text('1.00 KiB (1024 bytes) written'));
  assert.equal(modified(undefined), text('been written to'));
});

test('describeConflict: exactly 10 names are all listed, 11 are cut', () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
  const ten = describeConflict({ type: 'NoCommonSnapshot', sourceSnapshots: names(10), targetSnapshots: [] }, ctx);
  assert.match(ten, /Source snapshots: @s0, @s1, @s2, @s3, @s4, @s5, @s6, @s7, @s8, @s9\. Target/);
  const eleven = describeConflict({ type: 'NoCommonSnapshot', sourceSnapshots: names(11), targetSnapshots: [] }, ctx);
  assert.match(eleven, /Source snapshots: @s0, .*, @s9 and 1 more\. Target/);
});
