/**
 * What a run leaves behind on the target, on two lab hosts with real zfs-fuse and sshd and the
 * dev server: the replica is read-only, never mounted automatically, never shared (its received
 * values kept for clone-replica), and a trust change reaches the source's open shared connection.
 */
import { on, scenarioJob } from '../helpers/lab-replication';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { labDown, labExec, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { requireInventory } from '../../inventory/load';
import { replicationJobs, replicationTrustInput } from '../../inventory/jobs';
import type { ReplicationJob, ReplicationResult } from '../../core/replication/shared';
import type { SetupReplicationTrustInput } from '../../core/trust/shared';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { configureLab, configureWorkflowId } from '../helpers/lab-configure';
import { recordHistory } from '../helpers/record-history';
import type { SetupReplicationTrustResult } from '../../core/trust/shared';
import type { CloneReplicaResult } from '../../activities/replication/clone';
import { startReplication } from '../../scripts/replication-start';
import { failureMessage } from '../../scripts/failure-message';

const LAB_DIR = path.resolve(__dirname, '../../.data/lab-replica-safety-test');
/** The datasets the receive guard allows from the start (sp2/r/NAME). */
const RING = ['ro', 'rotree', 'a', 'c'];

let temporal: TestTemporal;
let template: ReplicationJob;
let trust: SetupReplicationTrustInput;
let src: LabHostState;
let dst: LabHostState;


function job(name: string, changes: Partial<ReplicationJob> = {}): ReplicationJob {
  return scenarioJob(template, name, { retry: { maximumAttempts: 3, initialIntervalMs: 500, maximumIntervalMs: 2000 }, ...changes });
}

const run = <T>(fn: () => Promise<T>): Promise<T> => temporal.withWorker(fn);

/** A run to its end; with `recordAs`, its history recorded (when recording), also a failed one. */
async function replicate(j: ReplicationJob, recordAs?: string): Promise<ReplicationResult> {
  const { handle } = await startReplication(temporal.client, j);
  try {
    return await handle.result();
  } finally {
    if (recordAs) await recordHistory(temporal.client, handle.workflowId, recordAs, (await handle.describe()).runId);
  }
}

function setupTrust(datasets: string[], workflowId = `trust-${Date.now()}`): Promise<SetupReplicationTrustResult> {
  const edges = datasets.map((name) => ({ source: template.source.host, target: template.target.host, targetDataset: `sp2/r/${name}` }));
  return temporal.client.workflow.execute('setupReplicationTrust', { taskQueue: temporal.taskQueue, workflowId, args: [{ ...trust, edges }] });
}

/** `dataset property value received source` lines of the replica's safety properties and mountpoint. */
async function props(dataset: string, recursive = false): Promise<string[]> {
  const out = await on(dst, `zfs get ${recursive ? '-r ' : ''}-H -o name,property,value,received,source readonly,canmount,sharenfs,mountpoint ${dataset}`);
  return out.trim().split('\n').filter((l) => !l.split('\t')[0]!.includes('@')).map((l) => l.split('\t').join(' '));
}

const protectedProps = (dataset: string, mountpoint: string, sharenfs: string) => [
  `${dataset} readonly on - local`,
  `${dataset} canmount noauto - local`,
  `${dataset} sharenfs off ${sharenfs} local`,
  `${dataset} mountpoint ${mountpoint} ${mountpoint} received`,
];

before(async () => {
  let lab: LabState;
  [lab, temporal] = await Promise.all([labUp({ names: ['test-san-01', 'test-san-02'], dir: LAB_DIR }), startTestTemporal('replica-safety')]);
  [src, dst] = lab.hosts as [LabHostState, LabHostState];
  await configureLab(temporal, lab);
  await recordHistory(temporal.client, configureWorkflowId(src.name), 'configureStorage');
  await on(src, 'zfs create sp1/t');
  await on(dst, 'zfs create sp2/r');
  const inventory = requireInventory(lab.inventoryFile);
  template = replicationJobs(inventory)[0]!;
  trust = replicationTrustInput(inventory);
  const trustId = `trust-ring-${process.pid}`;
  await run(() => setupTrust(RING, trustId));
  await recordHistory(temporal.client, trustId, 'setupReplicationTrust');
  await recordHistory(temporal.client, `${trustId}/prepare/${dst.name}`, 'prepareReplicationHost');
  await recordHistory(temporal.client, `${trustId}/exchange/${dst.name}`, 'exchangeReplicationKeys');
});

after(async () => {
  await temporal?.stop();
  // Stops the hosts' processes, the shared ssh masters on the source among them.
  await labDown({ dir: LAB_DIR });
});

describe('the replica on the target', () => {
  test('is read-only, not mounted, not shared after a run and a reboot; reading it keeps the next run incremental; clones take the received values', async () => {
    // sharenfs is stored though zfs-fuse cannot share it ("property may be set").
    await on(src, `zfs create -o mountpoint=/export/t-ro sp1/t/ro; zfs set sharenfs=rw,nosuid sp1/t/ro 2>/dev/null
      zfs get -H -o value sharenfs sp1/t/ro | grep -qx rw,nosuid && echo v1 > /export/t-ro/f`);
    const full = await run(() => replicate(job('ro'), 'replicateDataset-full'));
    assert.equal(full.kind, 'full');
    assert.deepEqual(await props('sp2/r/ro'), protectedProps('sp2/r/ro', '/export/t-ro', 'rw,nosuid'));
    assert.ok(full.replicaChanged?.some((c) => c.includes('readonly=on')), JSON.stringify(full));

    // The target reboots: its pools come back and mount what may be mounted.
    await on(dst, 'zfs mount -a; zfs share -a 2>/dev/null; true');
    assert.equal((await on(dst, 'zfs get -H -o value mounted sp2/r/ro')).trim(), 'no');
    assert.equal((await labExec(dst, ['mountpoint', '-q', '/export/t-ro'])).code, 1, 'nothing mounted at the source\'s path');

    // An operator mounts it by hand to read a file: read-only, so not even an atime is written.
    await on(dst, 'zfs mount sp2/r/ro && cat /export/t-ro/f && sync && zfs umount sp2/r/ro');
    await on(src, 'echo v2 > /export/t-ro/f');
    const next = await run(() => replicate(job('ro'), 'replicateDataset-incremental'));
    assert.equal(next.kind, 'incremental');
    assert.deepEqual(next.replicaChanged ?? [], [], 'an incremental receive keeps the local overrides');
    assert.deepEqual(await props('sp2/r/ro'), protectedProps('sp2/r/ro', '/export/t-ro', 'rw,nosuid'));

    // A replica received before this product protected replicas: mounted read-write, shared.
    await on(dst, 'zfs inherit readonly sp2/r/ro && zfs set canmount=on sp2/r/ro && zfs inherit -S sharenfs sp2/r/ro 2>/dev/null; zfs mount sp2/r/ro; zfs get -H -o value mounted sp2/r/ro | grep -qx yes');
    const upgraded = await run(() => replicate(job('ro')));
    assert.equal(upgraded.kind, 'incremental');
    assert.deepEqual(await props('sp2/r/ro'), protectedProps('sp2/r/ro', '/export/t-ro', 'rw,nosuid'));
    assert.equal((await on(dst, 'zfs get -H -o value mounted sp2/r/ro')).trim(), 'no');
    assert.ok(upgraded.replicaChanged?.some((c) => c.includes('unmounted')), JSON.stringify(upgraded));

    // clone-replica with no mountpoint or sharenfs from the inventory: the received ones.
    const clone = 'sp2/clones/test-san-01/t/ro';
    const cloneId = `clone-${Date.now()}`;
    const made: CloneReplicaResult = await run(() => temporal.client.workflow.execute('cloneReplica', {
      taskQueue: temporal.taskQueue, workflowId: cloneId, args: [{ replica: job('ro').target, clone, replace: false }],
    }));
    await recordHistory(temporal.client, cloneId, 'cloneReplica');
    assert.equal(made.origin, `sp2/r/ro@${upgraded.snapshot}`);
    assert.deepEqual((await on(dst, `zfs get -H -o value mountpoint,sharenfs,readonly,mounted ${clone}`)).trim().split('\n'),
      ['/export/t-ro', 'rw,nosuid', 'off', 'yes']);
    await on(dst, 'cat /export/t-ro/f | grep -qx v2 && echo testing > /export/t-ro/scratch');
  });

  test('with children (-R): every dataset of the tree is protected, also one that appears later', async () => {
    await on(src, 'zfs create sp1/t/rotree && zfs create sp1/t/rotree/a && echo a > /sp1/t/rotree/a/f');
    await run(() => replicate(job('rotree', { recursive: true })));
    await on(src, 'zfs create sp1/t/rotree/b && zfs set sharenfs=ro sp1/t/rotree/b 2>/dev/null; true');
    const next = await run(() => replicate(job('rotree', { recursive: true })));
    assert.equal(next.kind, 'incremental');
    const lines = await props('sp2/r/rotree', true);
    for (const dataset of ['sp2/r/rotree', 'sp2/r/rotree/a', 'sp2/r/rotree/b']) {
      for (const p of ['readonly on', 'canmount noauto', 'sharenfs off']) {
        assert.ok(lines.some((l) => l.startsWith(`${dataset} ${p} `) && l.endsWith(' local')), `${dataset} ${p} local:\n${lines.join('\n')}`);
      }
    }
    assert.ok(lines.includes('sp2/r/rotree/b sharenfs off ro local'), lines.join('\n'));
  });
});

describe('a trust change', () => {
  test('reaches the open shared connection: a dataset added to the ring replicates right after trust', async () => {
    await on(src, 'zfs create sp1/t/a && echo a > /sp1/t/a/f && zfs create sp1/t/b && echo b > /sp1/t/b/f');
    await run(() => replicate(job('a')));
    const masters = async () => (await on(src, 'for s in /root/.ssh/esxi-zfs-*; do [ -S "$s" ] && echo "$s"; done; true')).trim();
    assert.notEqual(await masters(), '', 'the run left its shared connection open');

    const changed = await run(() => setupTrust([...RING, 'b']));
    const result = await run(() => replicate(job('b')));
    assert.equal(result.kind, 'full');
    const sourceSteps = changed.hosts.find((h) => h.host === 'test-san-01')!.steps;
    const closed = sourceSteps.find((s) => s.step === 'closeStaleConnections');
    assert.ok(closed?.changed.some((c) => c.includes('test-san-02')), JSON.stringify(sourceSteps));

    const again = await run(() => setupTrust([...RING, 'b']));
    assert.equal(again.changes, 0, 'an unchanged trust closes nothing');
  });

  test('a stream the receive guard refuses stops the shared connection it went through', async () => {
    await on(src, 'zfs create sp1/t/c && echo c > /sp1/t/c/f && zfs create sp1/t/unlisted && echo u > /sp1/t/unlisted/f');
    await run(() => replicate(job('c')));
    const masters = async () => (await on(src, 'for s in /root/.ssh/esxi-zfs-*; do [ -S "$s" ] && echo "$s"; done; true')).trim();
    assert.notEqual(await masters(), '', 'the run left its shared connection open');
    await assert.rejects(run(() => replicate(job('unlisted'), 'replicateDataset-refused')), (e: unknown) => /receive guard refused/.test(failureMessage(e)));
    assert.equal(await masters(), '', 'the next run logs in anew, under the trust as it is then');
  });
});
