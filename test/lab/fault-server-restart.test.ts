/**
 * The Temporal dev server SIGKILLed (by pid, no clean shutdown) and started again on the same
 * SQLite file in the middle of each runbook (issue 13), on one lab: two storage hosts (real sshd,
 * zfs-fuse, NFS), then the lab's vSphere simulator with vh1, vh2 whose storage VMs they are.
 *
 * In order, each building on the one before: configureStorage on the blank hosts; provisionCluster
 * from blank (passthrough, storage VMs, datastores, trust, schedules); a replication send of 192 MiB;
 * a failover of the lost source; the failback once it is back; recoverDatastores while the source's
 * NFS server is down, until its reboot. Every run resumes on the restarted server and completes; what it
 * made is read back from the hosts and the simulator. Each records its result for docs/reliability.md.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { Workflow, WorkflowResultType } from '@temporalio/common';
import { temporal as proto } from '@temporalio/proto';
import { configureStorage, failback, failover, provisionCluster, recoverDatastores } from '../../workflows';
import { failbackWorkflowId, failoverWorkflowId } from '../../core/failover/shared';
import { provisionHostStatusQuery, WorkflowIds } from '../../core/provision/shared';
import { replicationScheduleId, type ReplicationResult } from '../../core/replication/shared';
import { configureStorageInput } from '../../inventory/configure';
import { failbackInput, failoverInput } from '../../inventory/failover';
import { recoverDatastoresInput } from '../../inventory/datastore';
import { recoverDatastoresProgressQuery, recoverWorkflowId } from '../../core/datastore/recover';
import { replicationJobs } from '../../inventory/jobs';
import { requireInventory } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { provisionClusterInput } from '../../inventory/provision';
import { storageVms } from '../../inventory/targets';
import { inHypervisor, labDown, labReboot, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { stopNfs } from '../../lab/nfs/server';
import { nfsUrl } from '../../lab/nfs/client';
import { runHook } from '../../lab/vsphere-hook';
import { LAB_VSPHERE_PASSWORD_ENV, labVsphereUp } from '../../lab/vsphere-lab';
import type { VsphereSim } from '../../lab/vsphere';
import { startReplication } from '../../scripts/replication-start';
import { on } from '../helpers/lab-replication';
import { recorded, type FaultRecorder } from '../helpers/reliability';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';

const LAB_DIR = path.resolve(__dirname, '../../.data/lab-fault-server-restart-test');
let lab: LabState;
let sim: VsphereSim | undefined;
let temporal: TestTemporal;
let src: LabHostState;
let dst: LabHostState;
/** The failover case's recovered copy, for the failback case. */
let recoveredClone: string | undefined;

before(async () => {
  [lab, temporal] = await Promise.all([labUp({ names: ['rst-san-01', 'rst-san-02'], dir: LAB_DIR }), startTestTemporal('server-restart')]);
  [src, dst] = lab.hosts as [LabHostState, LabHostState];
});

after(async () => {
  await temporal?.stop();
  await labDown({ dir: LAB_DIR }); // stops the lab's simulator too
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether the run has finished at least one step (an activity or a local activity's marker). */
const madeProgress = async (handle: WorkflowHandle): Promise<true | undefined> =>
  (await handle.fetchHistory()).events!.some((e) => e.activityTaskCompletedEventAttributes || e.markerRecordedEventAttributes) ? true : undefined;

const TimeoutType = proto.api.enums.v1.TimeoutType;

/** SIGKILLs the dev server and starts it again on its SQLite file; the recovery clock starts once it answers. */
async function killServer(r: FaultRecorder, during: string): Promise<void> {
  const pid = temporal.server.pid;
  const started = Date.now();
  await temporal.restartServer({ kill: true });
  r.happened(`The dev server (pid ${pid}) was SIGKILLed ${during} and started again on the same SQLite file (answering after ${Math.round((Date.now() - started) / 100) / 10} s, pid ${temporal.server.pid}).`);
  r.recoveryStarted();
}

/** `workflowId: event` for every timeout in the histories of the runs started since `since`: what a restart cost in waiting. */
async function timeoutsSince(since: Date): Promise<{ runs: number; found: string[] }> {
  const found: string[] = [];
  let runs = 0;
  for await (const w of temporal.client.workflow.list({ query: `StartTime >= '${since.toISOString()}'` })) {
    runs++;
    const history = await temporal.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const workflowTask = e.workflowTaskTimedOutEventAttributes;
      const activityTask = e.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo;
      if (workflowTask) found.push(`${w.workflowId}: workflow task ${TimeoutType[workflowTask.timeoutType ?? 0]}`);
      if (activityTask) found.push(`${w.workflowId}: activity task ${TimeoutType[activityTask.timeoutType ?? 0]}`);
    }
  }
  return { runs, found };
}

/** Says how the runs resumed: any task the server had handed out before its death waited out its timeout. */
async function reportTimeouts(r: FaultRecorder, since: Date): Promise<void> {
  const { runs, found } = await timeoutsSince(since);
  assert.ok(runs > 0, 'the runs are listed');
  r.happened(found.length === 0
    ? `The runs resumed with no task timing out in their ${runs} histories (nothing waited for a timeout).`
    : `Resuming cost ${found.length} timeout(s) in the ${runs} histories: ${[...new Set(found)].join('; ')} (a task the worker finished while the server was down is timed out and handed out again: the workflow task timeout is 10 s).`);
}

/** Kills the server once the run has done its first step; its result once it resumed and ended. */
async function resultAfterKill<W extends Workflow>(r: FaultRecorder, handle: WorkflowHandle<W>, runbook: string): Promise<WorkflowResultType<W>> {
  await until(`a first ${runbook} step done`, () => madeProgress(handle));
  await killServer(r, `after the first ${runbook} step`);
  const done = await handle.result();
  r.recovered();
  return done;
}

const sshOut = async (host: LabHostState, script: string) => (await on(host, script)).trim();
/** The replication job of the source host's dataset, and the datastore it is mounted as. */
const sourceJob = (inventory: Inventory) => replicationJobs(inventory).find((j) => j.source.host.name === src.name)!;
const sourceDatastore = (inventory: Inventory) => storageVms(inventory).find((vm) => vm.name === src.name)!.datasets[0]!.datastore!.name;

test('configureStorage on blank hosts, the server killed mid-run: both complete, one pool create each, datasets and shares in place', recorded('server-restart/configure', async (r) => {
  const since = new Date();
  const inventory = requireInventory(lab.inventoryFile);
  const inputs = storageVms(inventory).map((vm) => configureStorageInput(inventory, vm.name));
  const results = await temporal.withWorker(async () => {
    const handles = await Promise.all(inputs.map((input) => temporal.client.workflow.start(configureStorage, {
      args: [input], taskQueue: temporal.taskQueue, workflowId: `restart-configure-${input.host.name}`,
    })));
    await until('a first configure step done', () => madeProgress(handles[0]!));
    await killServer(r, 'after the first configureStorage step');
    const done = await Promise.all(handles.map((h) => h.result()));
    r.recovered();
    return done;
  });
  await reportTimeouts(r, since);
  assert.equal(results.length, 2);
  for (const [j, vm] of storageVms(inventory).entries()) {
    const host = lab.hosts[j]!;
    assert.equal(await sshOut(host, 'zpool list -H -o name'), vm.pool.name);
    assert.equal(await sshOut(host, `zpool history ${vm.pool.name} | grep -c 'zpool create'`), '1', `${host.name}: one pool create`);
    for (const d of vm.datasets) assert.equal(await sshOut(host, `zfs list -H -o name ${d.name}`), d.name);
    assert.match(await sshOut(host, `zfs get -H -o value sharenfs ${vm.datasets[0]!.name}`), /\S/);
    assert.match(await sshOut(host, 'ip -4 -o addr show eth1'), new RegExp(host.storageAddress.replaceAll('.', '\\.')));
  }
  r.verified('each host has its pool, created once (zpool history)');
  r.verified('every dataset of the inventory exists, shared over NFS');
  r.verified('eth1 has its storage address');
}));

test('provisionCluster from blank, the server killed once vh1 is past its passthrough: completes, one reboot and one VM per host, datastores mounted', recorded('server-restart/provision', async (r) => {
  const since = new Date();
  sim = await labVsphereUp(lab, { rebootSeconds: 2, mountEverywhere: true });
  process.env[LAB_VSPHERE_PASSWORD_ENV] = sim.password;
  const inventory = requireInventory(lab.inventoryFile);
  const result = await temporal.withWorker(async () => {
    const handle = await temporal.client.workflow.start(provisionCluster, { args: [provisionClusterInput(inventory)], taskQueue: temporal.taskQueue, workflowId: WorkflowIds.provisionCluster });
    const step = await until('vh1 past enablePassthrough', async () => {
      const s = await temporal.client.workflow.getHandle(WorkflowIds.provisionHost('vh1')).query(provisionHostStatusQuery);
      return s.current && s.current !== 'enablePassthrough' ? s.current : undefined;
    });
    await killServer(r, `while vh1 was at ${step}`);
    const done = await handle.result();
    r.recovered();
    return done;
  });
  await reportTimeouts(r, since);
  assert.deepEqual(result.failures, []);
  assert.deepEqual(result.steps.map((s) => s.state), ['done', 'done', 'done', 'done']);
  r.verified('every step of the cluster and of each host done, no failure');
  for (const [j, vm] of storageVms(inventory).entries()) {
    const esxi = await sim.control.host(`vh${j + 1}`);
    assert.equal(esxi.reboots, 1, `${esxi.name}: one reboot`);
    assert.ok(esxi.passthrough.some((d) => d.passthruActive), `${esxi.name}: the X1 is active`);
    assert.deepEqual(esxi.vms.map((v) => [v.name, v.powerState]), [[vm.name, 'poweredOn']]);
  }
  r.verified('each ESXi host rebooted once, its X1 active, exactly one storage VM, powered on');
  const datastores = await sim.control.datastores();
  for (const vm of storageVms(inventory)) {
    const name = vm.datasets[0]!.datastore!.name;
    const d = datastores.find((x) => x.name === name);
    assert.deepEqual(d?.hosts.map((h) => `${h.host} ${h.accessible}`).sort(), ['vh1 true', 'vh2 true'], name);
  }
  assert.equal(datastores.length, 2, datastores.map((d) => d.name).join(', '));
  r.verified('each share is one datastore, mounted and accessible on both ESXi hosts');
}));

test('a replication send of 192 MiB, the server killed mid-stream: the run completes, the replica equal, no duplicate snapshot', recorded('server-restart/replication', async (r) => {
  const since = new Date();
  const job = sourceJob(requireInventory(lab.inventoryFile));
  const mountpoint = await sshOut(src, `zfs get -H -o value mountpoint ${job.source.dataset}`);
  await on(src, `head -c 201326592 /dev/urandom > ${mountpoint}/big && echo replicated > ${mountpoint}/before.txt`);
  const { handle } = await startReplication(temporal.client, { ...job, retry: { maximumAttempts: 5, initialIntervalMs: 500, maximumIntervalMs: 2000 } });
  const result = await temporal.withWorker(async () => {
    await until('the send under way', async () => ((await handle.describe()).raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'sendSnapshot' && a.heartbeatDetails) || undefined);
    await killServer(r, 'while sendSnapshot streamed');
    const pending = ((await handle.describe()).raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'sendSnapshot');
    r.happened(pending ? 'The stream was still running when the server was back.' : 'The stream had ended while the server was down.');
    const done = (await handle.result()) as ReplicationResult;
    r.recovered();
    return done;
  });
  await reportTimeouts(r, since);
  assert.equal(result.kind, 'full');
  const snapshots = async (host: LabHostState, dataset: string) => sshOut(host, `zfs get -H -p -d 1 -o name,value guid ${dataset} | grep @ | sed 's/^[^@]*@//'`);
  assert.equal(await snapshots(dst, job.target.dataset), await snapshots(src, job.source.dataset));
  assert.equal((await snapshots(src, job.source.dataset)).split('\n').length, 1, 'one snapshot from one run');
  r.verified('the same single snapshot (name and guid) on both sides: none duplicated by the restart');
  const sums = (host: LabHostState, dir: string) => sshOut(host, `cd ${dir} && find . -type f | sort | xargs md5sum`);
  const clone = `${job.target.dataset.split('/')[0]}/verify-restart`;
  await on(dst, `zfs clone ${job.target.dataset}@${result.snapshot} ${clone}`);
  try {
    assert.equal(await sums(dst, await sshOut(dst, `zfs get -H -o value mountpoint ${clone}`)), await sums(src, mountpoint));
  } finally {
    await on(dst, `for i in 1 2 3 4 5 6; do zfs destroy ${clone} 2>/dev/null && exit 0; sleep 0.5; done; zfs destroy -f ${clone}`);
  }
  r.verified('the replica\'s files have the source\'s checksums (192 MiB)');
}));

test('a failover of the lost source, the server killed mid-run: the recovered datastore mounted, the data read over NFS, replication fenced', recorded('server-restart/failover', async (r) => {
  const since = new Date();
  const inventory = requireInventory(lab.inventoryFile);
  const job = sourceJob(inventory);
  await runHook(LAB_DIR, 'vm-off', [src.name, src.name]);
  r.happened(`${src.name} was lost (its sshd stopped).`);
  const result = await temporal.withWorker(async () => {
    const handle = await temporal.client.workflow.start(failover, { args: [failoverInput(inventory, job.source.dataset, false)], taskQueue: temporal.taskQueue, workflowId: failoverWorkflowId(job) });
    return resultAfterKill(r, handle, 'failover');
  });
  await reportTimeouts(r, since);
  assert.ok(result.datastores.length > 0, 'a recovered datastore');
  const recovered = (await sim!.control.datastores()).filter((d) => d.name.endsWith('-recovered'));
  assert.equal(recovered.length, 1, recovered.map((d) => d.name).join(', '));
  assert.ok(recovered[0]!.hosts.some((h) => h.accessible), JSON.stringify(recovered[0]));
  r.verified(`one recovered datastore, mounted and accessible (${result.datastores.join(', ')})`);
  const mountpoint = await sshOut(dst, `zfs get -H -o value mountpoint ${result.clone}`);
  const read = await inHypervisor(lab, 'vh2', ['nfs-cat', nfsUrl(dst.storageAddress, `${mountpoint}/before.txt`, 3)]);
  assert.equal(read.stdout, 'replicated\n', read.stderr);
  r.verified('the replicated data read over NFS from vh2\'s storage address');
  assert.equal((await temporal.client.schedule.getHandle(replicationScheduleId(job)).describe()).state.paused, true);
  assert.match(await sshOut(dst, `zfs get -H -o value esxi-zfs:fenced ${job.target.dataset}`), /^failover:/);
  r.verified('the replica fenced and its schedule paused');
  recoveredClone = result.clone;
}));

test('the failback once the source is back, the server killed mid-run: the data written during the failover on the source, the ring restored', recorded('server-restart/failback', async (r) => {
  assert.ok(recoveredClone, 'the failover case ran first');
  const since = new Date();
  const inventory = requireInventory(lab.inventoryFile);
  const job = sourceJob(inventory);
  const cloneMountpoint = await sshOut(dst, `zfs get -H -o value mountpoint ${recoveredClone}`);
  await on(dst, `echo written-during-failover > ${cloneMountpoint}/during.txt`);
  await runHook(LAB_DIR, 'vm-on', [src.name, src.name]);
  r.happened(`A file was written to the recovered copy ${recoveredClone} on ${dst.name}; ${src.name} came back (its sshd started).`);
  const result = await temporal.withWorker(async () => {
    const handle = await temporal.client.workflow.start(failback, { args: [failbackInput(inventory, job.source.dataset, true)], taskQueue: temporal.taskQueue, workflowId: failbackWorkflowId(job) });
    return resultAfterKill(r, handle, 'failback');
  });
  await reportTimeouts(r, since);
  assert.equal(result.nothingToDo, undefined);
  const mountpoint = await sshOut(src, `zfs get -H -o value mountpoint ${job.source.dataset}`);
  assert.equal(await sshOut(src, `cat ${mountpoint}/during.txt`), 'written-during-failover');
  assert.equal(await sshOut(src, `cat ${mountpoint}/before.txt`), 'replicated');
  r.verified(`the file written during the failover is on ${src.name}'s ${job.source.dataset}, next to the data replicated before`);
  assert.equal(result.replication?.kind, 'incremental');
  assert.equal((await temporal.client.schedule.getHandle(replicationScheduleId(job)).describe()).state.paused, false);
  assert.equal(await sshOut(dst, `zfs get -H -o value esxi-zfs:fenced ${job.target.dataset}`), '-');
  assert.equal(await sshOut(dst, `zfs list -H -o name ${recoveredClone} 2>/dev/null || echo gone`), 'gone');
  r.verified(`replication incremental again, the schedule resumed, the fence lifted, the recovered copy destroyed (${result.copy})`);
  const datastores = await sim!.control.datastores();
  assert.deepEqual(datastores.filter((d) => d.name.endsWith('-recovered')).map((d) => d.name), []);
  const name = sourceDatastore(inventory);
  assert.ok(datastores.find((d) => d.name === name)?.hosts.some((h) => h.accessible), JSON.stringify(datastores));
  r.verified(`the recovered datastore unmounted, ${name} accessible again`);
}));

test('recoverDatastores while the storage VM\'s NFS server is down, the server killed during the wait: the wait resumes, the exports answer after the reboot, every datastore accessible', recorded('server-restart/recover-datastores', async (r) => {
  const since = new Date();
  const inventory = requireInventory(lab.inventoryFile);
  await stopNfs(src);
  r.happened(`${src.name}'s NFS server was stopped: its exports do not answer.`);
  const id = recoverWorkflowId(src.name);
  const result = await temporal.withWorker(async () => {
    const handle = await temporal.client.workflow.start(recoverDatastores, { args: [recoverDatastoresInput(inventory, src.name)], taskQueue: temporal.taskQueue, workflowId: id });
    await until('the exports found not answering', async () => {
      const p = await handle.query(recoverDatastoresProgressQuery);
      return p.phase === 'waitingForExports' && p.exportChecks >= 1 && p.lastCheck !== undefined ? true : undefined;
    });
    await killServer(r, 'while the run waited for the exports');
    const rebooted = await labReboot({ dir: LAB_DIR, host: src.name });
    assert.ok(rebooted.answers, rebooted.notes.join('; '));
    r.happened(`${src.name} was rebooted from its own configuration (its NFS server and shares back).`);
    const done = await handle.result();
    r.recovered();
    return done;
  });
  await reportTimeouts(r, since);
  assert.equal(result.exports.answered, true, result.exports.detail);
  assert.ok(result.exportChecks >= 2, `export checks: ${result.exportChecks}`);
  r.verified(`the wait went on after the restart: the exports answered at check ${result.exportChecks}`);
  const states = result.hosts.flatMap((h) => h.datastores.map((d) => `${h.host} ${d.datastore} ${d.state}`)).sort();
  assert.ok(states.length >= 2 && states.every((st) => / (accessible|remounted)$/.test(st)), states.join(', '));
  const datastores = await sim!.control.datastores();
  const name = sourceDatastore(inventory);
  assert.deepEqual(datastores.find((d) => d.name === name)?.hosts.map((h) => `${h.host} ${h.accessible}`).sort(), ['vh1 true', 'vh2 true']);
  r.verified(`every datastore of ${src.name} accessible on both ESXi hosts (${states.join(', ')})`);
}));
