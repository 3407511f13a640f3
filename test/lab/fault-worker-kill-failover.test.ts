/**
 * Issue 13, worker SIGKILLed during a failover and during the failback after it. The set-up of
 * test/lab/failover.test.ts: two lab storage hosts (real sshd, zfs-fuse, NFS), the vSphere
 * simulator with vh1 and vh2, wf-san-01's sp1/nas/vol0 replicated to wf-san-02 and mounted on
 * both; wf-san-01 lost. The failover's worker (a spawned `esxi-zfs worker`) is SIGKILLed while it
 * clones the replica, the failback's while it swaps the copy in (`zfs promote` held with SIGSTOP);
 * a new worker finishes each. Asserted from real state: the clones on the replica's host, the
 * simulator's datastores and vmkernel NICs, the data read over NFS from the ESXi hosts' namespaces.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { failback, failover } from '../../workflows';
import { failbackWorkflowId, failoverWorkflowId, type FailbackResult, type FailoverResult } from '../../core/failover/shared';
import type { ReplicationJob, ReplicationResult } from '../../core/replication/shared';
import { findJob } from '../../inventory/jobs';
import { failbackInput, failoverInput } from '../../inventory/failover';
import type { Inventory } from '../../inventory/schema';
import { inHypervisor, labDown, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { startVsphereSim, type VsphereSim } from '../../lab/vsphere';
import { runHook } from '../../lab/vsphere-hook';
import { nfsUrl } from '../../lab/nfs/client';
import { startReplication } from '../../scripts/replication-start';
import { configureLab } from '../helpers/lab-configure';
import { failoverLabInventory, nfsDatastoresOf, withSimHost } from '../helpers/lab-failover';
import { on } from '../helpers/lab-replication';
import { recorded, type FaultRecorder } from '../helpers/reliability';
import { pidsOn, procFile, spawnWorker, until } from '../helpers/lab-processes';
import { startTestTemporal, workflowBundle, type TestTemporal } from '../helpers/temporal';

const LAB_DIR = path.resolve(__dirname, '../../.data/lab-fault-worker-kill-failover-test');
const PASSWORD_ENV = 'ESXI_ZFS_TEST_VSPHERE_PASSWORD_WORKER_KILL_FAILOVER';
const DATASET = 'sp1/nas/vol0';
const DATASTORE = 'wf-san-01-nas-vol0';
const MOUNTPOINT = '/export/wf-san-01-nas-vol0';

let lab: LabState;
let sim: VsphereSim;
let temporal: TestTemporal;
let simDir: string;
let inventory: Inventory;
let job: ReplicationJob;
let src: LabHostState;
let dst: LabHostState;

/**
 * Runs `handle`'s workflow on a spawned worker process; when `command` runs on `host` it is held
 * (SIGSTOP), the worker SIGKILLed and the command let go; a new worker finishes the run.
 */
async function killedDuring<T>(r: FaultRecorder, handle: WorkflowHandle, host: LabHostState, command: RegExp, what: string): Promise<T> {
  const worker = spawnWorker(temporal);
  let held: number[] = [];
  try {
    held = await until(`${what} on ${host.name}`, () => {
      const pids = pidsOn(host, command);
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      return pids.length > 0 ? pids : undefined;
    }, 120_000, 5);
  } finally {
    await worker.kill();
    for (const pid of held) process.kill(pid, 'SIGCONT');
  }
  await until(`the held ${what} to end`, () => (held.some((pid) => procFile(pid, 'stat') !== '') ? undefined : true), 30_000, 50);
  r.happened(`The worker process was SIGKILLed while ${what} ran on ${host.name} (held with SIGSTOP, continued after the kill).`);
  r.recoveryStarted();
  const result = await temporal.withWorker(() => handle.result() as Promise<T>);
  r.recovered();
  return result;
}

async function retried(r: FaultRecorder, handle: WorkflowHandle, activity: string): Promise<void> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<string, number>();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === activity) scheduled.set(String(e.eventId), Number(s.heartbeatTimeout?.seconds ?? NaN));
  }
  const attempts = events.flatMap((e) => {
    const s = e.activityTaskStartedEventAttributes;
    return s && scheduled.has(String(s.scheduledEventId)) ? [s.attempt ?? 1] : [];
  });
  const heartbeat = Math.max(...scheduled.values());
  assert.ok(attempts.some((a) => a > 1), `${activity} was retried (attempts ${attempts.join(',')})`);
  assert.ok(heartbeat <= 10, `${activity}'s heartbeat timeout is ${heartbeat} s`);
  r.verified(`${activity} was retried on the new worker (attempts ${attempts.join(', ')}), scheduled with a ${heartbeat} s heartbeat timeout`);
}

/** `name remoteHost:remotePath` of every NFS datastore of an ESXi host, and its vmkernel NICs. */
async function esxiState(host: string): Promise<{ datastores: string[]; vnics: string[] }> {
  return withSimHost(sim, host, async (session, h) => ({
    datastores: await nfsDatastoresOf(session, h),
    vnics: (await (await h.networkSystem()).networkInfo()).vnic.map((v) => `${v.portgroup} ${v.spec.ip?.ipAddress}`).sort(),
  }));
}

const clonesOn = async (host: LabHostState, pool: string) =>
  (await on(host, `zfs list -H -o name,origin -t filesystem -r ${pool}`)).trim().split('\n').map((l) => l.split('\t')).filter(([, origin]) => origin !== '-').map(([name]) => name!);

describe('worker SIGKILLed during failover and failback', { timeout: 600_000 }, () => {
  let vnicsBefore: Record<string, string[]>;
  let failoverResult: FailoverResult;

  before(async () => {
    simDir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-fault-failover-'));
    await labDown({ dir: LAB_DIR });
    [lab, sim, temporal] = await Promise.all([
      labUp({ names: ['wf-san-01', 'wf-san-02'], dir: LAB_DIR }),
      startVsphereSim({ dir: simDir, hosts: [{ name: 'vh1', address: '10.213.9.51' }, { name: 'vh2', address: '10.213.9.52' }] }),
      startTestTemporal('fault-failover'),
      workflowBundle(),
    ]);
    process.env[PASSWORD_ENV] = sim.password;
    [src, dst] = lab.hosts as [LabHostState, LabHostState];
    await configureLab(temporal, lab);
    inventory = await failoverLabInventory(lab, sim, temporal, { passwordEnv: PASSWORD_ENV, datastore: DATASTORE, file: path.join(LAB_DIR, 'fault-failover.yaml'), ids: 'fault-failover' });
    job = findJob(inventory, DATASET);
    await on(src, `echo replicated > ${MOUNTPOINT}/before.txt`);
    const replicated = await temporal.withWorker(async () => (await startReplication(temporal.client, job)).handle.result() as Promise<ReplicationResult>);
    assert.equal(replicated.kind, 'full');
    vnicsBefore = { vh1: (await esxiState('vh1')).vnics, vh2: (await esxiState('vh2')).vnics };
  });

  after(async () => {
    await temporal?.stop();
    await sim?.stop();
    if (simDir) rmSync(simDir, { recursive: true, force: true });
    await labDown({ dir: LAB_DIR });
  });

  test('worker killed while failover clones the replica: one clone, one recovered datastore on the survivor, the data over NFS', recorded('worker-kill/failover', async (r) => {
    await runHook(LAB_DIR, 'vm-off', [src.name, src.name]);
    const handle = await temporal.client.workflow.start(failover, { taskQueue: temporal.taskQueue, workflowId: failoverWorkflowId(job), args: [failoverInput(inventory, DATASET, false)] });
    failoverResult = await killedDuring<FailoverResult>(r, handle, dst, /(^|\/)zfs clone /, '`zfs clone` of the replica\'s newest snapshot');
    await retried(r, handle, 'cloneNewestReplicaSnapshot');
    const clone = failoverResult.steps.find((s) => s.step === 'cloneReplica')!.report;
    r.happened(`The retried clone step: ${[...clone.found, ...clone.changed].join('; ')}.`);

    assert.deepEqual(await clonesOn(dst, 'sp2'), [failoverResult.clone]);
    r.verified(`exactly one clone on ${dst.name}: ${failoverResult.clone}`);
    const [vh1, vh2] = [await esxiState('vh1'), await esxiState('vh2')];
    assert.deepEqual(vh2.datastores.filter((d) => d.startsWith(`${DATASTORE}-recovered `)), [`${DATASTORE}-recovered ${dst.storageAddress}:${MOUNTPOINT}`]);
    assert.deepEqual(vh1.datastores.filter((d) => d.startsWith(`${DATASTORE}-recovered `)), [], 'not on the lost host vh1');
    r.verified(`exactly one ${DATASTORE}-recovered datastore on the surviving host vh2 (${dst.storageAddress}:${MOUNTPOINT}), none on vh1`);
    assert.deepEqual({ vh1: vh1.vnics, vh2: vh2.vnics }, vnicsBefore);
    r.verified(`no vmkernel NIC added (vh2: ${vh2.vnics.join(', ')})`);
    const read = await inHypervisor(lab, 'vh2', ['nfs-cat', nfsUrl(dst.storageAddress, `${MOUNTPOINT}/before.txt`, 3)]);
    assert.equal(read.stdout, 'replicated\n', read.stderr);
    r.verified('the replicated file read over NFS from vh2\'s address on the recovered copy');
  }));

  test('worker killed while failback swaps the copy in: the data written during the failover is home, one dataset, the datastore back', recorded('worker-kill/failback', async (r) => {
    assert.ok(failoverResult, 'the failover case ran first');
    await on(dst, `echo written-during-failover > ${MOUNTPOINT}/during.txt`);
    await runHook(LAB_DIR, 'vm-on', [src.name, src.name]);
    const handle = await temporal.client.workflow.start(failback, { taskQueue: temporal.taskQueue, workflowId: failbackWorkflowId(job), args: [failbackInput(inventory, DATASET, true)] });
    const back = await killedDuring<FailbackResult>(r, handle, src, /(^|\/)zfs promote /, '`zfs promote` of the received copy (the swap)');
    await retried(r, handle, 'swapInReceivedCopy');
    const swap = back.steps.find((s) => s.step === 'swapIn')?.report;
    if (swap) r.happened(`The retried swap: ${[...swap.changed, ...swap.found].join('; ')}.`);

    assert.equal(await on(src, `cat ${MOUNTPOINT}/during.txt`), 'written-during-failover\n');
    assert.equal(await on(src, `cat ${MOUNTPOINT}/before.txt`), 'replicated\n');
    r.verified(`the file written during the failover and the one before it are on ${src.name}:${DATASET}`);
    const datasets = (await on(src, 'zfs list -H -o name -t filesystem -r sp1')).trim().split('\n');
    assert.deepEqual(datasets.filter((d) => d.startsWith('sp1/nas/')), [DATASET], datasets.join(', '));
    assert.deepEqual(await clonesOn(src, 'sp1'), [], 'the swapped-in copy was promoted: no clone left');
    r.verified(`one ${DATASET} on ${src.name}, no incoming or set-aside dataset left, no clone`);
    assert.deepEqual(await clonesOn(dst, 'sp2'), [], 'the recovered copy is destroyed');
    assert.equal(back.replication?.kind, 'incremental');
    r.verified('the recovered copy destroyed on the replica\'s host; the replication after it incremental');
    for (const host of ['vh1', 'vh2']) {
      const state = await esxiState(host);
      assert.deepEqual(state.datastores, [`${DATASTORE} ${src.storageAddress}:${MOUNTPOINT}`], host);
      assert.deepEqual(state.vnics, vnicsBefore[host], host);
    }
    r.verified(`vh1 and vh2 each mount ${DATASTORE} once (from ${src.storageAddress}), no recovered datastore left, no vmkernel NIC added`);
    const fromVh1 = await inHypervisor(lab, 'vh1', ['nfs-cat', nfsUrl(src.storageAddress, `${MOUNTPOINT}/during.txt`, 3)]);
    assert.equal(fromVh1.stdout, 'written-during-failover\n', fromVh1.stderr);
    r.verified('the file written during the failover read over NFS from vh1\'s address');
  }));
});
