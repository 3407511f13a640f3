/** failback's plan from what it read: nothing to do, each refusal, the changes named, the swap found done. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFailback, syncBase, type FailbackFacts } from '../../core/failover/plan';
import { recoveredCloneName, recoveredDatastoreName } from '../../core/failover/shared';
import type { Snapshot } from '../../core/zfs/snapshot';
import type { ReplicationJob } from '../../core/replication/shared';

let txg = 10;
const snap = (dataset: string, name: string, guid: string): Snapshot => ({ dataset, name, guid, createtxg: String(++txg), creation: 1_764_700_000, userrefs: 0 });
const S = snap('sp2/nas/vol0', 'esxi-zfs_20261202T235900Z', '42');
const where = { original: 'uss1:sp1/nas/vol0', clone: 'uss2:sp2/recovered/uss1/nas/vol0' };
const facts = (changes: Partial<FailbackFacts> = {}): FailbackFacts => ({
  fence: 'failover:uss1:sp1/nas/vol0 2026-12-03T10:00:00.000Z',
  clone: { origin: `sp2/nas/vol0@${S.name}`, snapshots: [] },
  replica: [S],
  original: [{ ...S, dataset: 'sp1/nas/vol0' }],
  originalChanges: [],
  changesMethod: 'zfs diff',
  incoming: null,
  ...changes,
});

test('no fence and no copy: nothing to do; a fence without the copy: refused', () => {
  assert.equal(planFailback(facts({ fence: undefined, clone: null }), where).kind, 'nothing');
  const refused = planFailback(facts({ clone: null }), where);
  assert.equal(refused.kind, 'refuse');
});

test('the common snapshot by guid; later snapshots and changed paths named', () => {
  const plan = planFailback(facts({ original: [{ ...S, dataset: 'sp1/nas/vol0', name: 'renamed' }, snap('sp1/nas/vol0', 'hourly', '7')], originalChanges: ['M /x'] }), where);
  assert.equal(plan.kind, 'proceed');
  assert.ok(plan.kind === 'proceed' && plan.origin.guid === '42');
  assert.ok(plan.kind === 'proceed' && plan.changes[0]!.startsWith('snapshot @hourly'));
  assert.ok(plan.kind === 'proceed' && plan.changes.includes('  M /x'));
  assert.equal(planFailback(facts({ original: [snap('sp1/nas/vol0', 'other', '9')] }), where).kind, 'refuse');
  assert.equal(planFailback(facts({ original: null }), where).kind, 'refuse');
});

test('the swap is done when the original holds the copy\'s final snapshot and nothing is incoming', () => {
  const final = snap('sp2/recovered/uss1/nas/vol0', 'esxi-zfs-failback_20261203T110000Z', '99');
  const copy = { origin: `sp2/nas/vol0@${S.name}`, snapshots: [final], finalSnapshot: final.name };
  const plan = planFailback(facts({ clone: copy, original: [{ ...S, dataset: 'sp1/nas/vol0' }, { ...final, dataset: 'sp1/nas/vol0' }], originalChanges: ['M /vm.vmdk'] }), where);
  assert.ok(plan.kind === 'proceed' && plan.swapped && plan.changes.length === 0, 'after the swap, new writes on the original are not failback\'s to discard');
  assert.equal(syncBase([final], [{ ...final, dataset: 'sp1/nas/vol0-failback' }])?.guid, '99');
  assert.equal(syncBase([final], null), undefined);
});

test('names derived from the job', () => {
  const job = { source: { host: { name: 'uss1' }, dataset: 'sp1/nas/vol0' }, target: { host: { name: 'uss2' }, dataset: 'sp2/nas/vol0' } } as ReplicationJob;
  assert.equal(recoveredCloneName(job), 'sp2/recovered/uss1/nas/vol0');
  assert.equal(recoveredDatastoreName('uss1-nas-vol0'), 'uss1-nas-vol0-recovered');
  assert.throws(() => recoveredDatastoreName('a'.repeat(33)), /longer than 42/);
});
