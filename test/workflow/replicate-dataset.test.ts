/**
 * replicateDataset's own decisions, on the time-skipping server with fake activities (in memory,
 * named as such: no host is touched): the cases the lab cannot produce on demand, such as a
 * snapshot name taken in the same second or a pool without holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { replicateDataset } from '../../workflows';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { requireInventory } from '../../inventory/load';
import { replicationJobs } from '../../inventory/jobs';
import type { ReplicationJob, ReplicationResult } from '../../core/replication/shared';
import { capabilities } from '../../core/zfs/capabilities';
import type { Snapshot } from '../../core/zfs/snapshot';
import type { DatasetRef, DatasetState } from '../../activities/replication/datasets';
import type { TransferInput, TransferResult } from '../../activities/replication/transfer';

const job: ReplicationJob = {
  ...replicationJobs(requireInventory(path.join(__dirname, '../../examples/runbook.yaml')))[0]!,
  retention: {},
};
const SOURCE = job.source.dataset;
const TARGET = job.target.dataset;

const temporal = timeSkippingEnv();

let txg = 100;
const snapshot = (dataset: string, name: string, guid: string): Snapshot => ({ dataset, name, guid, createtxg: String(++txg), creation: 0, userrefs: 0 });
const withHolds = { version: 23 as const, capabilities: capabilities(23, []) };
const withoutHolds = { version: 15 as const, capabilities: capabilities(15, []) };

interface FakeWorld {
  source: Snapshot[];
  /** null: the target dataset does not exist. */
  target: Snapshot[] | null;
  targetPool?: DatasetState['pool'];
  /** Snapshot names an earlier run already took (createSnapshot answers `taken`). */
  taken?: string[];
}

/** Fake activities over an in-memory world; `calls` records what the workflow asked for. */
function fakeActivities(world: FakeWorld) {
  const calls: { name: string; input: unknown }[] = [];
  let guid = 9000;
  return {
    calls,
    activities: {
      async createSnapshot(input: DatasetRef & { name: string }) {
        calls.push({ name: 'createSnapshot', input });
        if (world.taken?.includes(input.name)) return { taken: true as const };
        const made = snapshot(SOURCE, input.name, String(++guid));
        world.source.push(made);
        return { snapshot: made, created: true, state: { pool: withHolds, snapshots: [...world.source] } };
      },
      async readDatasetState(input: DatasetRef): Promise<DatasetState> {
        calls.push({ name: 'readDatasetState', input });
        return { pool: world.targetPool ?? withHolds, snapshots: world.target && [...world.target] };
      },
      async openSharedConnection(input: unknown) {
        calls.push({ name: 'openSharedConnection', input });
        return { connection: 'started' as const };
      },
      async sendSnapshot(input: TransferInput): Promise<TransferResult> {
        calls.push({ name: 'sendSnapshot', input });
        const sent = world.source.find((s) => s.guid === input.expectGuid)!;
        world.target = [...(world.target ?? []), { ...sent, dataset: TARGET }];
        return { bytes: 1234, durationMs: 5, alreadyReceived: false, warnings: [], targetSnapshots: [...world.target], replicaChanged: [] };
      },
      async rollbackTarget(input: unknown) {
        calls.push({ name: 'rollbackTarget', input });
        return { destroyed: [] };
      },
      async destroySnapshots(input: { names: string[] }) {
        calls.push({ name: 'destroySnapshots', input });
        return { destroyed: input.names, kept: [] };
      },
    },
  };
}

/** One replicateDataset run of `job` on a worker with the fake activities. */
async function runWith(fake: ReturnType<typeof fakeActivities>, j: ReplicationJob = job): Promise<ReplicationResult> {
  const taskQueue = `replicate-${process.pid}-${++runs}`;
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection,
    namespace: temporal.env.namespace ?? 'default',
    workflowBundle: await workflowBundle(),
    activities: fake.activities,
    taskQueue,
  });
  return worker.runUntil(temporal.env.client.workflow.execute(replicateDataset, { args: [j], taskQueue, workflowId: `replicate-test-${process.pid}-${runs}` })) as Promise<ReplicationResult>;
}
let runs = 0;

async function replicate(world: FakeWorld): Promise<{ result: ReplicationResult; calls: { name: string; input: unknown }[] }> {
  const fake = fakeActivities(world);
  return { result: await runWith(fake), calls: fake.calls };
}

const sends = (calls: { name: string; input: unknown }[]) => calls.filter((c) => c.name === 'sendSnapshot').map((c) => c.input as TransferInput);

test('first run: a full send, the target parent created, nothing held (there is no base)', async () => {
  const { result, calls } = await replicate({ source: [], target: null });
  assert.equal(result.kind, 'full');
  const [send] = sends(calls);
  assert.equal(send!.createParent, true);
  assert.equal(send!.hold, undefined);
  assert.deepEqual(send!.sendArgs, [`${SOURCE}@${result.snapshot}`]);
  assert.deepEqual(send!.ciphers, job.sshCiphers);
  const opened = calls.filter((c) => c.name === 'openSharedConnection').map((c) => c.input);
  // (through JSON, as the activity receives it: fields that are undefined in the job are absent)
  assert.deepEqual(opened, [JSON.parse(JSON.stringify({ source: job.source, target: job.target, user: job.user, ciphers: job.sshCiphers }))], 'the connection is started once, before the stream');
  assert.ok(calls.findIndex((c) => c.name === 'openSharedConnection') < calls.findIndex((c) => c.name === 'sendSnapshot'));
});

test('incremental: the common base (by guid) held on both ends while the stream runs', async () => {
  const base = snapshot(SOURCE, 'esxi-zfs_20261124T235900Z', '42');
  const { result, calls } = await replicate({ source: [base], target: [{ ...base, dataset: TARGET }] });
  assert.equal(result.kind, 'incremental');
  assert.equal(result.base, base.name);
  const [send] = sends(calls);
  assert.deepEqual(send!.hold, { tag: 'esxi-zfs-replication', source: base.name, target: base.name });
  assert.deepEqual(send!.sendArgs, ['-I', `@${base.name}`, `${SOURCE}@${result.snapshot}`]);
  assert.equal(send!.createParent, false);
});

test('a base renamed on either side: each side is held under its own name for it, the send names the source\'s', async () => {
  const base = snapshot(SOURCE, 'renamed-on-source', '45');
  const { result, calls } = await replicate({ source: [base], target: [{ ...base, dataset: TARGET, name: 'renamed-on-target' }] });
  assert.equal(result.base, 'renamed-on-source');
  const [send] = sends(calls);
  assert.deepEqual(send!.hold, { tag: 'esxi-zfs-replication', source: 'renamed-on-source', target: 'renamed-on-target' });
  assert.deepEqual(send!.sendArgs, ['-I', '@renamed-on-source', `${SOURCE}@${result.snapshot}`]);
});

test('a pool without holds (version < 18): the stream runs without them', async () => {
  const base = snapshot(SOURCE, 'esxi-zfs_20261124T235900Z', '43');
  const { calls } = await replicate({ source: [base], target: [{ ...base, dataset: TARGET }], targetPool: withoutHolds });
  assert.equal(sends(calls)[0]!.hold, undefined);
});

test('a snapshot name an earlier run took in the same second: the next second gives the name', async () => {
  const world: FakeWorld = { source: [], target: null, taken: [] };
  // Every name of the first second is taken: whatever second the workflow starts in.
  const names = new Set<string>();
  const fake = fakeActivities(world);
  const create = fake.activities.createSnapshot;
  fake.activities.createSnapshot = async (input) => {
    names.add(input.name);
    if (names.size === 1) world.taken = [input.name];
    return create(input);
  };
  const result = await runWith(fake);
  const [first, second] = [...names];
  assert.ok(first && second && first !== second, `two names asked for: ${[...names].join(', ')}`);
  assert.equal(result.snapshot, second);
  assert.ok(second > first, 'the later name sorts after the taken one');
});

test('a diverged target: failed, not retried, the snapshots named, nothing sent or rolled back', async () => {
  const base = snapshot(SOURCE, 'esxi-zfs_20261124T235900Z', '44');
  const foreign = snapshot(TARGET, 'operator-test', '45');
  const fake = fakeActivities({ source: [base], target: [{ ...base, dataset: TARGET }, foreign] });
  await assert.rejects(
    runWith(fake),
    (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      const cause = error.cause as { message?: string; nonRetryable?: boolean };
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message ?? '', /operator-test/);
      assert.match(cause.message ?? '', new RegExp(base.name));
      return true;
    },
  );
  assert.deepEqual(fake.calls.filter((c) => ['sendSnapshot', 'rollbackTarget', 'destroySnapshots'].includes(c.name)), []);
});

test("replication.retry governs every step, the first ones too: 2 attempts, not the 5 of before", async () => {
  const fake = fakeActivities({ source: [], target: null });
  const readDatasetState = fake.activities.readDatasetState;
  let reads = 0;
  fake.activities.readDatasetState = async (input: DatasetRef) => {
    if (input.dataset === TARGET) {
      reads++;
      throw new Error('ssh: connect ECONNREFUSED');
    }
    return readDatasetState(input);
  };
  const twoAttempts: ReplicationJob = { ...job, retry: { maximumAttempts: 2, initialIntervalMs: 100, maximumIntervalMs: 100 } };
  await assert.rejects(runWith(fake, twoAttempts), WorkflowFailedError);
  assert.equal(reads, 2);
});

test('zfs receive refusing a modified target: one failure type, TargetModified, with the explanation and remedy planning gives', async () => {
  const base = snapshot(SOURCE, 'esxi-zfs_20261124T235900Z', '46');
  const fake = fakeActivities({ source: [base], target: [{ ...base, dataset: TARGET, name: 'renamed-on-target' }] });
  fake.activities.sendSnapshot = async () => {
    throw ApplicationFailure.nonRetryable('uss1:sp1/nas/vol0 -> uss2:sp2/nas/vol0: zfs receive refused the stream: the target was written to since the common snapshot.', 'TargetModified');
  };
  await assert.rejects(runWith(fake), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as ApplicationFailure;
    assert.equal(cause.type, 'TargetModified');
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, /^Target sp2\/nas\/vol0 on uss2 has been written to since the common base @renamed-on-target \(sp1\/nas\/vol0@esxi-zfs_20261124T235900Z on the source, renamed\)/);
    assert.match(cause.message, /its replicateTo's rollback: true, or replication\.rollback: true/);
    return true;
  });
});

test('a replica fenced by a failover: refused before the source is touched (no snapshot, no connection, nothing sent)', async () => {
  const fake = fakeActivities({ source: [], target: [] });
  const read = fake.activities.readDatasetState;
  fake.activities.readDatasetState = async (input: DatasetRef) => ({ ...(await read(input)), fence: 'failover:uss1:sp1/nas/vol0 2026-12-03T10:00:00.000Z' });
  await assert.rejects(runWith(fake), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as ApplicationFailure;
    assert.equal(cause.type, 'ReplicaFenced');
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, /uss2:sp2\/nas\/vol0 is fenced by a failover \(failover:uss1:sp1\/nas\/vol0 .*\): no replication writes it until `esxi-zfs failback` of uss1:sp1\/nas\/vol0/);
    return true;
  });
  assert.deepEqual(fake.calls.map((c) => c.name), ['readDatasetState']);
});
