/**
 * failover and failback end to end: two lab storage hosts (real sshd, zfs-fuse, NFS), the vSphere
 * simulator with their ESXi hosts vh1 and vh2, a real Temporal dev server. fo-san-01's
 * sp1/nas/vol0 is replicated to fo-san-02 and mounted as a datastore on vh1 and vh2; fo-san-01 is
 * lost (its sshd stopped, as the simulator's power-off hook does); failover makes the replica's
 * newest snapshot a shared clone, mounted on vh2 as the recovered datastore, the data read over NFS
 * from vh2's address; data written there during the failover; fo-san-01 back; failback names what
 * fo-san-01 held after the common snapshot and stops, then with consent brings the copy home.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { failback, failover } from '../../workflows';
import { Failure } from '../../core/failures';
import { failbackWorkflowId, failoverWorkflowId, type FailbackResult, type FailoverResult } from '../../core/failover/shared';
import { replicationScheduleId, type ReplicationJob, type ReplicationResult } from '../../core/replication/shared';
import { findJob } from '../../inventory/jobs';
import { failbackInput, failoverInput } from '../../inventory/failover';
import type { Inventory } from '../../inventory/schema';
import { applySchedules } from '../../activities/schedules/apply';
import { desiredSchedules } from '../../activities/schedules/desired';
import { inHypervisor, labDown, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { startVsphereSim, type VsphereSim } from '../../lab/vsphere';
import { runHook } from '../../lab/vsphere-hook';
import { nfsUrl } from '../../lab/nfs/client';
import { startReplication } from '../../scripts/replication-start';
import { TASK_QUEUE } from '../../workers/config';
import { configureLab } from '../helpers/lab-configure';
import { failoverLabInventory, nfsDatastoresOf, withSimHost } from '../helpers/lab-failover';
import { on } from '../helpers/lab-replication';
import { recordHistory } from '../helpers/record-history';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';

const LAB_DIR = path.resolve(__dirname, '../../.data/lab-failover-test');
const PASSWORD_ENV = 'ESXI_ZFS_TEST_VSPHERE_PASSWORD_FAILOVER';
const CLI = path.join(__dirname, '../../bin/esxi-zfs.js');
const DATASET = 'sp1/nas/vol0';
const DATASTORE = 'fo-san-01-nas-vol0';
const MOUNTPOINT = '/export/fo-san-01-nas-vol0';

let lab: LabState;
let sim: VsphereSim;
let temporal: TestTemporal;
let simDir: string;
let inventoryFile: string;
let inventory: Inventory;
let job: ReplicationJob;
let src: LabHostState;
let dst: LabHostState;

before(async () => {
  simDir = mkdtempSync(path.join(tmpdir(), 'esxi-zfs-failover-'));
  [lab, sim, temporal] = await Promise.all([
    labUp({ names: ['fo-san-01', 'fo-san-02'], dir: LAB_DIR }),
    startVsphereSim({ dir: simDir, hosts: [{ name: 'vh1', address: '10.213.9.21' }, { name: 'vh2', address: '10.213.9.22' }] }),
    startTestTemporal('failover'),
  ]);
  process.env[PASSWORD_ENV] = sim.password;
  [src, dst] = lab.hosts as [LabHostState, LabHostState];
  await configureLab(temporal, lab);
  inventoryFile = path.join(LAB_DIR, 'failover.yaml');
  inventory = await failoverLabInventory(lab, sim, temporal, { passwordEnv: PASSWORD_ENV, datastore: DATASTORE, file: inventoryFile, ids: 'failover' });
  job = findJob(inventory, DATASET);
  await applySchedules(temporal.client, desiredSchedules(inventory, TASK_QUEUE), { prune: false });
});

after(async () => {
  await temporal?.stop();
  await sim?.stop();
  if (simDir) rmSync(simDir, { recursive: true, force: true });
  await labDown({ dir: LAB_DIR });
});

const replicate = (): Promise<ReplicationResult> => temporal.withWorker(async () => (await startReplication(temporal.client, job)).handle.result());
const runFailover = (force = false): Promise<FailoverResult> => temporal.withWorker(() => temporal.client.workflow.execute(failover, {
  taskQueue: temporal.taskQueue, workflowId: failoverWorkflowId(job), args: [failoverInput(inventory, DATASET, force)],
}));
const runFailback = (consent: boolean): Promise<FailbackResult> => temporal.withWorker(() => temporal.client.workflow.execute(failback, {
  taskQueue: temporal.taskQueue, workflowId: failbackWorkflowId(job), args: [failbackInput(inventory, DATASET, consent)],
}));

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, String(error));
  let cause = error.cause as ApplicationFailure;
  while (cause.type === undefined && cause.cause) cause = cause.cause as ApplicationFailure;
  return cause;
}

/** `name remoteHost:remotePath` of every NFS datastore of an ESXi host in the simulator. */
const nfsDatastores = (host: string): Promise<string[]> => withSimHost(sim, host, nfsDatastoresOf);

const paused = async () => (await temporal.client.schedule.getHandle(replicationScheduleId(job)).describe()).state.paused;
const changed = (r: { steps: { report: { changed: string[] } }[] }) => r.steps.flatMap((s) => s.report.changed);

test('failover while the source answers is refused; with no replicated snapshot it is refused too', async () => {
  const answering = await failureOf(runFailover());
  assert.equal(answering.type, Failure.SourceAnswers);
  assert.match(answering.message, /fo-san-01 answers SSH .*--force/);
  const empty = await failureOf(runFailover(true));
  assert.equal(empty.type, Failure.ReplicaMissing);
  assert.match(empty.message, /fo-san-02:sp2\/nas\/vol0 has no replicated snapshot/);
  assert.equal(await paused(), false, 'a refused failover changed nothing');
});

test('fo-san-01 lost: failover clones, shares and mounts the replica on vh2, fences replication; then failback brings the copy home', async () => {
  await on(src, `echo replicated > ${MOUNTPOINT}/before.txt`);
  assert.equal((await replicate()).kind, 'full');
  await on(src, `echo never-replicated > ${MOUNTPOINT}/lost.txt`);
  await runHook(LAB_DIR, 'vm-off', [src.name, src.name]);

  // The CLI, as an operator runs it: exit 0, the result as JSON.
  const started = Date.now();
  const cli = await temporal.withWorker(() => promisify(execFile)(process.execPath, [CLI, 'failover', inventoryFile, '--dataset', DATASET, '--wait', '--json'], {
    env: { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace },
  }));
  const failoverMs = Date.now() - started;
  const settled = JSON.parse(cli.stdout) as { results: FailoverResult[]; failed: string[] };
  assert.deepEqual(settled.failed, []);
  const result = settled.results[0]!;
  assert.equal(result.clone, 'sp2/recovered/fo-san-01/nas/vol0');
  assert.ok(result.lostWindowMs > 0 && result.lostWindowMs < 10 * 60_000, `lost window ${result.lostWindowMs} ms`);
  console.log(`failover took ${failoverMs} ms (CLI start to result, worker in the test process)`);
  await recordHistory(temporal.client, failoverWorkflowId(job), 'failover');

  // The data, through NFS, from the surviving ESXi host's address.
  const read = await inHypervisor(lab, 'vh2', ['nfs-cat', nfsUrl(dst.storageAddress, `${MOUNTPOINT}/before.txt`, 3)]);
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout, 'replicated\n');
  assert.ok((await nfsDatastores('vh2')).includes(`${DATASTORE}-recovered ${dst.storageAddress}:${MOUNTPOINT}`), (await nfsDatastores('vh2')).join(', '));
  assert.ok(!(await nfsDatastores('vh1')).some((d) => d.startsWith(`${DATASTORE}-recovered`)), 'not on the lost host vh1');
  assert.equal(await paused(), true);
  assert.match(await on(dst, 'zfs get -H -o value esxi-zfs:fenced sp2/nas/vol0'), /^failover:fo-san-01:sp1\/nas\/vol0 /);
  const refused = await failureOf(replicate());
  assert.equal(refused.type, Failure.ReplicaFenced);

  const again = await runFailover();
  assert.deepEqual(changed(again), [], 'a second failover changes nothing');

  // Written during the failover, through the recovered copy on fo-san-02.
  await on(dst, `echo written-during-failover > ${MOUNTPOINT}/during.txt`);
  await runHook(LAB_DIR, 'vm-on', [src.name, src.name]);

  const stopped = await failureOf(runFailback(false));
  assert.equal(stopped.type, Failure.FailbackNeedsConsent);
  assert.match(stopped.message, /lost\.txt/);
  assert.match(stopped.message, /--discard-changes-after-common-snapshot/);
  assert.equal((await on(src, `cat ${MOUNTPOINT}/lost.txt`)), 'never-replicated\n', 'nothing discarded without consent');

  const failbackStarted = Date.now();
  const back = await runFailback(true);
  console.log(`failback took ${Date.now() - failbackStarted} ms (bulk and final sync, swap, trust twice, one replication)`);
  await recordHistory(temporal.client, failbackWorkflowId(job), 'failback');
  assert.equal(await on(src, `cat ${MOUNTPOINT}/during.txt`), 'written-during-failover\n');
  assert.equal(await on(src, `cat ${MOUNTPOINT}/before.txt`), 'replicated\n');
  assert.equal(await on(src, `test -e ${MOUNTPOINT}/lost.txt && echo present || echo discarded`), 'discarded\n');
  assert.equal(back.replication?.kind, 'incremental');
  assert.match(back.copy, /destroyed the recovered copy/);
  assert.equal(await paused(), false);
  assert.equal(await on(dst, 'zfs get -H -o value esxi-zfs:fenced sp2/nas/vol0'), '-\n');
  assert.deepEqual(await nfsDatastores('vh2'), [`${DATASTORE} ${src.storageAddress}:${MOUNTPOINT}`]);
  const fromVh1 = await inHypervisor(lab, 'vh1', ['nfs-cat', nfsUrl(src.storageAddress, `${MOUNTPOINT}/during.txt`, 3)]);
  assert.equal(fromVh1.stdout, 'written-during-failover\n', fromVh1.stderr);

  await on(src, `echo after > ${MOUNTPOINT}/after.txt`);
  const next = await replicate();
  assert.equal(next.kind, 'incremental', 'the replica stream stayed incremental');
  const second = await runFailback(false);
  assert.ok(second.nothingToDo, 'a second failback changes nothing');
});
