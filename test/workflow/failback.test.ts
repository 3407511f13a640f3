/**
 * failback's own decisions with fake activities over an in-memory world (no host is touched): the
 * step order and the streams it asks for, the stop without consent naming the changes, the stop
 * while VMs are on the recovered datastore and the run started again after it, each refusal.
 * On a dev server, not the time-skipping one: failback starts children (setupReplicationTrust,
 * replicateDataset) that carry the product's search attributes, and the time-skipping server has
 * no operator service to register them (its child start then never happens).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { failback } from '../../workflows';
import { Failure } from '../../core/failures';
import type { StepReport } from '../../core/configure/shared';
import type { FailbackResult } from '../../core/failover/shared';
import { requireInventory } from '../../inventory/load';
import { failbackInput } from '../../inventory/failover';
import { capabilities } from '../../core/zfs/capabilities';
import type { Snapshot } from '../../core/zfs/snapshot';
import type { DatasetState } from '../../activities/replication/datasets';
import type { TransferInput } from '../../activities/replication/transfer';
import type { FailbackState } from '../../activities/failover/storage';
import { startTestTemporal, workflowBundle, type TestTemporal } from '../helpers/temporal';

const inventory = requireInventory(path.join(__dirname, '../../examples/runbook.yaml'));
const pool = { version: 23 as const, capabilities: capabilities(23, []) };
const report = (changed: string[] = [], found: string[] = []): StepReport => ({ found, changed, warnings: [] });

let temporal: TestTemporal;
let connection: NativeConnection;
before(async () => {
  temporal = await startTestTemporal('failback-workflow');
  connection = await NativeConnection.connect({ address: temporal.server.address });
});
after(async () => {
  await connection?.close();
  await temporal?.stop();
});

let txg = 100;
const snap = (dataset: string, name: string, guid: string, creation = 1_764_700_000): Snapshot => ({ dataset, name, guid, createtxg: String(++txg), creation, userrefs: 0 });

let runs = 0;
async function run(activities: object, consent: boolean, workflowId = `fb-${process.pid}-${++runs}`): Promise<FailbackResult> {
  const taskQueue = `failback-${process.pid}-${++runs}`;
  const worker = await Worker.create({ connection, namespace: temporal.server.namespace, workflowBundle: await workflowBundle(), activities, taskQueue });
  return worker.runUntil(temporal.client.workflow.execute(failback, { args: [failbackInput(inventory, 'sp1/nas/vol0', consent)], taskQueue, workflowId }));
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, String(error));
  let cause = error.cause as ApplicationFailure;
  while (cause.type === undefined && cause.cause) cause = cause.cause as ApplicationFailure;
  return cause;
}

const S = snap('sp2/nas/vol0', 'esxi-zfs_20261202T235900Z', '42');
const ORIGIN = `sp2/nas/vol0@${S.name}`;
const CLONE = 'sp2/recovered/uss1/nas/vol0';
const INCOMING = 'sp1/nas/vol0-failback';

interface BackWorld {
  facts: FailbackState;
  vms: string[];
  calls: string[];
  sends: TransferInput[];
}

function failbackActivities(w: BackWorld) {
  const call = (name: string) => w.calls.push(name);
  const none = { changed: [], warnings: [] };
  let guid = 500;
  return {
    async probeStorageAnswers() {
      call('probeStorageAnswers');
      return { answers: true, detail: 'uss1 answers SSH' };
    },
    async readFailbackState() {
      call('readFailbackState');
      return structuredClone(w.facts);
    },
    // setupReplicationTrust's steps (its child workflows run here too)
    async ensureReplicationUser() { call('trust'); return none; },
    async ensureReplicationKey() { return { ...none, publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake' }; },
    async installReceiveGuard() { return none; },
    async authorizeReplicationKeys() { return none; },
    async pinReplicationHostKeys() { return none; },
    async closeStaleConnections() { return none; },
    async snapshotRecoveredCopy(input: { name: string; freeze: boolean }) {
      call(input.freeze ? 'freeze' : 'snapshotRecoveredCopy');
      const clone = w.facts.clone!;
      const name = input.freeze ? clone.finalSnapshot ?? input.name : input.name;
      if (input.freeze) clone.finalSnapshot = name;
      let made = clone.snapshots.find((s) => s.name === name);
      if (!made) clone.snapshots.push((made = snap(CLONE, name, String(++guid))));
      return { snapshot: made, report: report([`snapshot @${name}`]) };
    },
    async sendSnapshot(input: TransferInput) {
      call(`sendSnapshot ${input.target.dataset}`);
      w.sends.push(input);
      if (input.target.dataset === INCOMING) {
        const sent = w.facts.clone!.snapshots.find((s) => s.guid === input.expectGuid)!;
        w.facts.incoming = [...(w.facts.incoming ?? []), { ...sent, dataset: INCOMING }];
        return { bytes: 100, durationMs: 1, alreadyReceived: false, warnings: [], targetSnapshots: w.facts.incoming, replicaChanged: [] };
      }
      return { bytes: 10, durationMs: 1, alreadyReceived: false, warnings: [], targetSnapshots: [], replicaChanged: [] };
    },
    async unmountNasDatastores(host: { name: string }, names: string[]) {
      call('unmountNasDatastores');
      return { report: report(w.vms.length > 0 ? [] : [`datastore ${names[0]} unmounted from ${host.name}`]), vms: [...w.vms] };
    },
    async swapInReceivedCopy() {
      call('swapInReceivedCopy');
      w.facts.original = [...w.facts.original!, ...w.facts.incoming!.map((s) => ({ ...s, dataset: 'sp1/nas/vol0' }))];
      w.facts.incoming = null;
      return report(['swapped']);
    },
    async mountNasDatastores() { call('mountNasDatastores'); return report([], ['mounted']); },
    async clearReplicaFence() { call('clearReplicaFence'); w.facts.fence = undefined; return report(['lifted']); },
    // replicateDataset's steps (the child)
    async readDatasetState(): Promise<DatasetState> { call('replicate'); return { pool, snapshots: [{ ...S }] }; },
    async createSnapshot(input: { name: string }) {
      const made = snap('sp1/nas/vol0', input.name, String(++guid));
      return { snapshot: made, created: true, state: { pool, snapshots: [{ ...S, dataset: 'sp1/nas/vol0' }, made] } };
    },
    async openSharedConnection() { return { connection: 'started' }; },
    async destroySnapshots() { return { destroyed: [], kept: [] }; },
    async unpauseReplicationSchedules() { call('unpauseReplicationSchedules'); return report(['unpaused']); },
    async destroyRecoveredCopy() { call('destroyRecoveredCopy'); w.facts.clone = null; return report([`destroyed the recovered copy uss2:${CLONE}`]); },
  };
}

const backWorld = (changes: Partial<BackWorld> = {}, facts: Partial<FailbackState> = {}): BackWorld => ({
  facts: {
    fence: 'failover:uss1:sp1/nas/vol0 2026-12-03T10:00:00.000Z',
    clone: { origin: ORIGIN, snapshots: [] },
    replica: [S],
    original: [{ ...S, dataset: 'sp1/nas/vol0' }],
    originalChanges: [],
    changesMethod: 'zfs diff',
    incoming: null,
    aside: false,
    ...facts,
  },
  vms: [],
  calls: [],
  sends: [],
  ...changes,
});

test('failback: the steps in order; the first sync a clone stream from the common snapshot, the last an incremental; then the replication, incremental', async () => {
  const w = backWorld();
  const result = await run(failbackActivities(w), false);
  assert.deepEqual(result.steps.map((s) => s.step), [
    'probeOriginal', 'inspect', 'openTrust', 'bulkSync', 'unmountRecovered', 'freezeCopy', 'finalSync', 'swapIn', 'mountOriginal',
    'closeTrust', 'liftFence', 'replicate', 'unpauseSchedules', 'destroyCopy',
  ]);
  const [bulk, last] = w.sends;
  assert.deepEqual(bulk!.sendArgs.slice(0, 2), ['-i', ORIGIN]);
  assert.equal(bulk!.source.dataset, CLONE);
  assert.equal(bulk!.target.dataset, INCOMING);
  assert.match(last!.sendArgs[1]!, new RegExp(`^${CLONE}@`), 'the final sync from the bulk snapshot');
  assert.notEqual(last!.sendArgs[2], bulk!.sendArgs[2], 'the final snapshot is not the bulk one');
  assert.equal(result.replication?.kind, 'incremental');
  assert.match(result.copy, /destroyed the recovered copy/);
  assert.deepEqual(result.discarded, []);
});

test('failback without consent stops naming what the original holds after the common snapshot; nothing is changed', async () => {
  const later = snap('sp1/nas/vol0', 'hourly-1100', '77');
  const w = backWorld({}, {
    original: [{ ...S, dataset: 'sp1/nas/vol0' }, later],
    originalChanges: ['M /export/uss1-nas-vol0/vm1/vm1-flat.vmdk', '+ /export/uss1-nas-vol0/notes.txt'],
  });
  const stopped = await failureOf(run(failbackActivities(w), false));
  assert.equal(stopped.type, Failure.FailbackNeedsConsent);
  assert.equal(stopped.nonRetryable, true);
  assert.match(stopped.message, /snapshot @hourly-1100/);
  assert.match(stopped.message, /notes\.txt/);
  assert.match(stopped.message, /vm1-flat\.vmdk/);
  assert.match(stopped.message, /--discard-changes-after-common-snapshot/);
  assert.deepEqual(w.calls, ['probeStorageAnswers', 'readFailbackState']);
  const consented = await run(failbackActivities(w), true);
  assert.ok(consented.discarded.some((d) => d.includes('hourly-1100')));
});

test('failback with VMs on the recovered datastore stops before the freeze; started again once they moved, it continues', async () => {
  const w = backWorld({ vms: ['uss1-nas-vol0-recovered: vm1 (poweredOn)'] });
  const id = `fb-resume-${process.pid}`;
  const stopped = await failureOf(run(failbackActivities(w), false, id));
  assert.equal(stopped.type, Failure.FailbackVmsOnRecovered);
  assert.match(stopped.message, /vm1 \(poweredOn\)/);
  assert.ok(!w.calls.includes('freeze'));
  w.vms = [];
  w.calls = [];
  const result = await run(failbackActivities(w), false, id);
  assert.ok(w.calls.includes('freeze') && w.calls.includes('swapInReceivedCopy'));
  assert.equal(result.replication?.kind, 'incremental');
  const again = await run(failbackActivities(w), false, id);
  assert.ok(again.nothingToDo, 'once done, failback has nothing to do');
});

test('failback refuses while the original does not answer, and when the copy is gone but the replica is fenced', async () => {
  const down = failbackActivities(backWorld());
  down.probeStorageAnswers = async () => ({ answers: false, detail: 'uss1 does not answer SSH' });
  assert.equal((await failureOf(run(down, false))).type, Failure.OriginalDown);
  const gone = await failureOf(run(failbackActivities(backWorld({}, { clone: null })), false));
  assert.equal(gone.type, Failure.FailbackState);
  assert.match(gone.message, /recovered copy .* is gone/);
});
