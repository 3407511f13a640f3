/**
 * failover's own decisions, on the time-skipping server with fake activities over an in-memory
 * world (no host is touched): the step order, each refusal, and a run started again after a failed
 * step continuing from what is already true. failback's are in failback.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { failover } from '../../workflows';
import { Failure } from '../../core/failures';
import type { StepReport } from '../../core/configure/shared';
import type { FailoverInput, FailoverResult } from '../../core/failover/shared';
import { requireInventory } from '../../inventory/load';
import { failoverInput } from '../../inventory/failover';
import { capabilities } from '../../core/zfs/capabilities';
import type { Snapshot } from '../../core/zfs/snapshot';
import type { DatasetRef, DatasetState } from '../../activities/replication/datasets';
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
async function run<R>(workflow: typeof failover, input: FailoverInput, activities: object, workflowId = `fo-${process.pid}-${++runs}`): Promise<R> {
  const taskQueue = `failover-${process.pid}-${++runs}`;
  const worker = await Worker.create({ connection: temporal.env.nativeConnection, namespace: temporal.env.namespace ?? 'default', workflowBundle: await workflowBundle(), activities, taskQueue });
  return worker.runUntil(temporal.env.client.workflow.execute(workflow, { args: [input], taskQueue, workflowId })) as Promise<R>;
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
  assert.equal(result.lastReplicated, '2026-12-02T23:59:00.000Z', 'the time in the snapshot\'s name (workflow time), not its creation (the host\'s clock)');
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
