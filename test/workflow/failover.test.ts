/**
 * failover's and failback's own decisions, on the time-skipping server with fake activities over
 * an in-memory world (no host is touched): the step order, each refusal, the consent, and a run
 * started again after a failed step continuing from what is already true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { failback, failover } from '../../workflows';
import { Failure } from '../../core/failures';
import type { StepReport } from '../../core/configure/shared';
import type { FailbackInput, FailbackResult, FailoverInput, FailoverResult } from '../../core/failover/shared';
import { requireInventory } from '../../inventory/load';
import { failbackInput, failoverInput } from '../../inventory/failover';
import { capabilities } from '../../core/zfs/capabilities';
import type { Snapshot } from '../../core/zfs/snapshot';
import type { DatasetRef, DatasetState } from '../../activities/replication/datasets';
import type { TransferInput } from '../../activities/replication/transfer';
import type { FailbackState } from '../../activities/failover/storage';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';

const inventory = requireInventory(path.join(__dirname, '../../examples/runbook.yaml'));
const temporal = timeSkippingEnv();
const pool = { version: 23 as const, capabilities: capabilities(23, []) };
const report = (changed: string[] = [], found: string[] = []): StepReport => ({ found, changed, warnings: [] });

let txg = 100;
const snap = (dataset: string, name: string, guid: string, creation = 1_764_700_000): Snapshot => ({ dataset, name, guid, createtxg: String(++txg), creation, userrefs: 0 });

interface World {
  sourceAnswers: boolean;
  replica: Snapshot[] | null;
  paused: boolean;
  fence?: string;
  clone?: string;
  mounted: string[];
  /** mountNasDatastores fails this many more times (non-retryably). */
  mountFailures: number;
  calls: string[];
}

function failoverActivities(world: World) {
  const call = (name: string) => world.calls.push(name);
  return {
    async probeStorageAnswers() {
      call('probeStorageAnswers');
      return { answers: world.sourceAnswers, detail: world.sourceAnswers ? 'uss1 answers SSH on 192.0.2.41' : 'uss1 does not answer SSH on 192.0.2.41: ECONNREFUSED' };
    },
    async readDatasetState(): Promise<DatasetState> {
      call('readDatasetState');
      return { pool, snapshots: world.replica && [...world.replica], ...(world.fence && { fence: world.fence }) };
    },
    async pauseReplicationSchedules(_jobs: unknown, note: string) {
      call('pauseReplicationSchedules');
      if (world.paused) return report([], ['paused']);
      world.paused = true;
      return report([`paused: ${note}`]);
    },
    async setReplicaFence(_ref: DatasetRef, value: string) {
      call('setReplicaFence');
      if (world.fence) return report([], [world.fence]);
      world.fence = value;
      return report([`fenced: ${value}`]);
    },
    async cloneNewestReplicaSnapshot(input: { clone: string; replica: DatasetRef }) {
      call('cloneNewestReplicaSnapshot');
      const origin = `${input.replica.dataset}@${world.replica!.at(-1)!.name}`;
      if (world.clone) return { clone: input.clone, origin, changed: [], warnings: [] };
      world.clone = input.clone;
      return { clone: input.clone, origin, changed: [`cloned ${origin} to ${input.clone}`], warnings: [] };
    },
    async mountNasDatastores(host: { name: string }, mounts: { datastore: string }[]) {
      call(`mountNasDatastores ${host.name}`);
      if (world.mountFailures > 0) {
        world.mountFailures--;
        throw ApplicationFailure.nonRetryable(`${host.name}: datastore ${mounts[0]!.datastore} is another export`, Failure.DatastoreConflict);
      }
      const key = `${host.name} ${mounts[0]!.datastore}`;
      if (world.mounted.includes(key)) return report([], [key]);
      world.mounted.push(key);
      return report([`datastore ${mounts[0]!.datastore} mounted on ${host.name}`]);
    },
  };
}

let runs = 0;
async function run<R>(workflow: typeof failover | typeof failback, input: FailoverInput | FailbackInput, activities: object, workflowId = `fo-${process.pid}-${++runs}`): Promise<R> {
  const taskQueue = `failover-${process.pid}-${++runs}`;
  const worker = await Worker.create({ connection: temporal.env.nativeConnection, namespace: temporal.env.namespace ?? 'default', workflowBundle: await workflowBundle(), activities, taskQueue });
  return worker.runUntil(temporal.env.client.workflow.execute(workflow as typeof failover, { args: [input as FailoverInput], taskQueue, workflowId })) as Promise<R>;
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, String(error));
  let cause = error.cause as ApplicationFailure;
  while (cause.type === undefined && cause.cause) cause = cause.cause as ApplicationFailure;
  return cause;
}

const world = (changes: Partial<World> = {}): World => ({
  sourceAnswers: false, replica: [snap('sp2/nas/vol0', 'esxi-zfs_20261202T235900Z', '42')], paused: false, mounted: [], mountFailures: 0, calls: [], ...changes,
});
const input = (force = false) => failoverInput(inventory, 'sp1/nas/vol0', force);

test('failover: probe, read, pause, fence, clone, mount on the surviving hosts only, in that order; the loss window reported', async () => {
  const w = world();
  const result = await run<FailoverResult>(failover, input(), failoverActivities(w));
  assert.deepEqual(result.steps.map((s) => s.step), ['probeSource', 'readReplica', 'pauseSchedules', 'fenceReplica', 'cloneReplica', 'mountRecovered']);
  assert.deepEqual(w.calls.slice(0, 5), ['probeStorageAnswers', 'readDatasetState', 'pauseReplicationSchedules', 'setReplicaFence', 'cloneNewestReplicaSnapshot']);
  const survivors = input().datastores!.survivors.map((h) => h.name);
  assert.ok(!survivors.includes('vh1'), 'uss1 runs on vh1: not a survivor');
  assert.deepEqual(w.calls.slice(5).sort(), survivors.map((h) => `mountNasDatastores ${h}`).sort());
  assert.deepEqual(w.mounted.sort(), survivors.map((h) => `${h} uss1-nas-vol0-recovered`).sort());
  assert.equal(result.clone, 'sp2/recovered/uss1/nas/vol0');
  assert.equal(result.lastReplicated, new Date(1_764_700_000 * 1000).toISOString());
  assert.ok(result.lostWindowMs > 0);
  assert.match(w.fence!, /^fo-\d+-\d+ \d{4}-/);
});

test('failover refuses while the source answers SSH, unless --force: nothing paused, fenced or cloned', async () => {
  const w = world({ sourceAnswers: true });
  const refused = await failureOf(run(failover, input(), failoverActivities(w)));
  assert.equal(refused.type, Failure.SourceAnswers);
  assert.equal(refused.nonRetryable, true);
  assert.match(refused.message, /uss1 answers SSH .*it is not down.*esxi-zfs failback.*--force/);
  assert.deepEqual(w.calls, ['probeStorageAnswers']);
  const forced = await run<FailoverResult>(failover, input(true), failoverActivities(w));
  assert.match(forced.steps[0]!.report.warnings[0]!, /failing over anyway \(--force\)/);
});

test('failover refuses when the replica has no replicated snapshot yet', async () => {
  for (const replica of [null, []]) {
    const w = world({ replica });
    const refused = await failureOf(run(failover, input(), failoverActivities(w)));
    assert.equal(refused.type, Failure.ReplicaMissing);
    assert.match(refused.message, /uss2:sp2\/nas\/vol0 has no replicated snapshot of uss1:sp1\/nas\/vol0 yet/);
    assert.deepEqual(w.calls, ['probeStorageAnswers', 'readDatasetState']);
  }
});

test('failover started again after a failed step continues: what is done is found, the rest is done', async () => {
  const w = world({ mountFailures: 1 });
  const id = `fo-resume-${process.pid}`;
  const failed = await failureOf(run(failover, input(), failoverActivities(w), id));
  assert.equal(failed.type, Failure.DatastoreHostsFailed);
  assert.equal(w.paused && !!w.fence && !!w.clone, true);
  const result = await run<FailoverResult>(failover, input(), failoverActivities(w), id);
  const byStep = new Map(result.steps.map((s) => [s.step, s.report]));
  assert.deepEqual(byStep.get('pauseSchedules')!.changed, []);
  assert.deepEqual(byStep.get('fenceReplica')!.changed, []);
  assert.deepEqual(byStep.get('cloneReplica')!.changed, []);
  assert.ok(byStep.get('mountRecovered')!.changed.length > 0);
  const again = await run<FailoverResult>(failover, input(), failoverActivities(w), id);
  assert.deepEqual(again.steps.flatMap((s) => s.report.changed), [], 'a third run changes nothing');
});

// failback

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
const backInput = (consent: boolean) => failbackInput(inventory, 'sp1/nas/vol0', consent);

test('failback: the steps in order; the first sync a clone stream from the common snapshot, the last an incremental; then the replication, incremental', async () => {
  const w = backWorld();
  const result = await run<FailbackResult>(failback, backInput(false), failbackActivities(w));
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
  const stopped = await failureOf(run(failback, backInput(false), failbackActivities(w)));
  assert.equal(stopped.type, Failure.FailbackNeedsConsent);
  assert.equal(stopped.nonRetryable, true);
  assert.match(stopped.message, /snapshot @hourly-1100/);
  assert.match(stopped.message, /notes\.txt/);
  assert.match(stopped.message, /vm1-flat\.vmdk/);
  assert.match(stopped.message, /--discard-changes-after-common-snapshot/);
  assert.deepEqual(w.calls, ['probeStorageAnswers', 'readFailbackState']);
  const consented = await run<FailbackResult>(failback, backInput(true), failbackActivities(w));
  assert.ok(consented.discarded.some((d) => d.includes('hourly-1100')));
});

test('failback with VMs on the recovered datastore stops before the freeze; started again once they moved, it continues', async () => {
  const w = backWorld({ vms: ['uss1-nas-vol0-recovered: vm1 (poweredOn)'] });
  const id = `fb-resume-${process.pid}`;
  const stopped = await failureOf(run(failback, backInput(false), failbackActivities(w), id));
  assert.equal(stopped.type, Failure.FailbackVmsOnRecovered);
  assert.match(stopped.message, /vm1 \(poweredOn\)/);
  assert.ok(!w.calls.includes('freeze'));
  w.vms = [];
  w.calls = [];
  const result = await run<FailbackResult>(failback, backInput(false), failbackActivities(w), id);
  assert.ok(w.calls.includes('freeze') && w.calls.includes('swapInReceivedCopy'));
  assert.equal(result.replication?.kind, 'incremental');
  const again = await run<FailbackResult>(failback, backInput(false), failbackActivities(w), id);
  assert.ok(again.nothingToDo, 'once done, failback has nothing to do');
});

test('failback refuses while the original does not answer, and when the copy is gone but the replica is fenced', async () => {
  const down = failbackActivities(backWorld());
  down.probeStorageAnswers = async () => ({ answers: false, detail: 'uss1 does not answer SSH' });
  assert.equal((await failureOf(run(failback, backInput(false), down))).type, Failure.OriginalDown);
  const gone = await failureOf(run(failback, backInput(false), failbackActivities(backWorld({}, { clone: null }))));
  assert.equal(gone.type, Failure.FailbackState);
  assert.match(gone.message, /recovered copy .* is gone/);
});
