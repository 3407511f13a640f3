/**
 * replicateDataset end to end: two lab hosts with real zfs-fuse and sshd, trust set up by the
 * setupReplicationTrust workflow, runs on the real dev server. Each test replicates its own
 * dataset (sp1/t/<name> on test-san-01 to sp2/r/<name> on test-san-02).
 */
import { on, scenarioJob } from '../helpers/lab-replication';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { labDown, labExec, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { requireInventory } from '../../inventory/load';
import { replicationJobs, replicationTrustInput } from '../../inventory/jobs';
import { replicationSearchAttributes, type ReplicationJob, type ReplicationResult } from '../../core/replication/shared';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { recordHistory } from '../helpers/record-history';
import { recorded } from '../helpers/reliability';
import { configureLab } from '../helpers/lab-configure';
import { renderSharenfs } from '../../core/guest/storage/shares';
import { startReplication } from '../../scripts/replication-start';
import { failureMessage } from '../../scripts/failure-message';
import { defaultCloneName } from '../../scripts/commands/clone-replica';
import { desiredSchedules } from '../../activities/schedules/desired';
import { TASK_QUEUE } from '../../workers/config';
import { SPLICE_COUNTER_MARK } from '../../activities/replication/byte-counter';
import { allPids, processNs } from '../../lab/sys';

const CLI = path.join(__dirname, '../../bin/esxi-zfs.js');

/** /proc/PID/FILE, or '' once the process is gone. */
function procFile(pid: number, file: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

const processGroup = (pid: number): number => Number(procFile(pid, 'stat').split(') ')[1]?.split(' ')[2]);

/** The command line of the stream's byte counter on a lab host (Linux, Python 3.11: the splice one). */
const FREEZE_COUNTER = new RegExp(`^python3 -c ${SPLICE_COUNTER_MARK.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

/**
 * The processes of this host whose command line matches: pgrep and pkill in a lab host would see
 * every lab on the machine (they share the pid namespace).
 */
function pidsOn(host: LabHostState, commandLine: RegExp): number[] {
  return allPids().filter((pid) => processNs(pid, 'mnt') === host.ns.mnt && commandLine.test(procFile(pid, 'cmdline').split('\0').join(' ')));
}

/** Signals the processes of this host whose command line matches; how many it signalled. */
function signalOn(host: LabHostState, commandLine: RegExp, signal: NodeJS.Signals): number {
  const pids = pidsOn(host, commandLine);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
  return pids.length;
}
import { createDatasetActivities } from '../../activities/replication/datasets';

/** Stops the stream's byte counter on the source the moment it exists (SIGSTOP): the stream waits. */
async function freezeStream(host: LabHostState): Promise<void> {
  // Generous: a worker started as a process first bundles the workflows, slow on a busy machine.
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    if (signalOn(host, FREEZE_COUNTER, 'SIGSTOP') > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no stream started on ${host.name} within 120 s`);
}

const LAB_DIR = path.resolve(__dirname, '../../.data/lab-replication-test');
const SCENARIOS = ['basic', 'tree', 'diverged', 'rollback', 'interrupt', 'stall', 'retention', 'concurrent', 'nested/deep/vol', 'cancel', 'clone', 'sched', 'crash', 'renamed-src', 'renamed-dst', 'killed', 'cli'];
/** Target datasets on the small pool sp3 (a file on the target host): its space runs out. */
const SMALL_POOL_DATASETS = ['sp3/full', 'sp3/rewrite'];

let lab: LabState;
let temporal: TestTemporal;
let template: ReplicationJob;
let src: LabHostState;
let dst: LabHostState;


/** Logins of the replication user that the target's sshd accepted so far (its log). */
function replicationLogins(): number {
  return fs.readFileSync(dst.logs.sshd, 'utf8').split('\n').filter((line) => line.includes(`Accepted publickey for ${template.user} `)).length;
}

function job(name: string, changes: Partial<ReplicationJob> = {}): ReplicationJob {
  return scenarioJob(template, name, changes);
}

async function replicate(j: ReplicationJob): Promise<ReplicationResult> {
  const { handle } = await startReplication(temporal.client, { ...j });
  return handle.result();
}

async function run<T>(fn: () => Promise<T>): Promise<T> {
  return temporal.withWorker(fn);
}

/** `name guid` of a dataset's snapshots, oldest first. */
async function snapshots(host: LabHostState, dataset: string): Promise<string[]> {
  const out = await on(host, `zfs get -H -p -d 1 -o name,property,value guid ${dataset} | grep @ | cut -f1,3`);
  return out.trim().split('\n').filter(Boolean).map((l) => l.replace(`${dataset}@`, '').replace('\t', ' '));
}

let clones = 0;

/** md5 of every file in the snapshot's tree, via a throw-away clone (never touching the replica). */
async function checksums(host: LabHostState, snapshot: string): Promise<string> {
  const clone = `${snapshot.split('/')[0]}/verify${++clones}`;
  return on(host, `set -e
    zfs clone ${snapshot} ${clone}
    (cd "$(zfs get -H -o value mountpoint ${clone})" && find . -type f | sort | xargs md5sum)
    # zfs-fuse may report the fresh mount busy for a moment
    for i in 1 2 3 4 5 6; do zfs destroy ${clone} 2>/dev/null && exit 0; sleep 0.5; done
    zfs destroy -f ${clone}`);
}

async function sourceChecksums(dataset: string): Promise<string> {
  return on(src, `cd /${dataset} && find . -type f | sort | xargs md5sum`);
}

before(async () => {
  [lab, temporal] = await Promise.all([labUp({ names: ['test-san-01', 'test-san-02'], dir: LAB_DIR }), startTestTemporal('replication')]);
  [src, dst] = lab.hosts as [LabHostState, LabHostState];
  await configureLab(temporal, lab);
  await on(src, 'zfs create sp1/t');
  await on(dst, 'zfs create sp2/r');
  const inventory = requireInventory(lab.inventoryFile);
  template = replicationJobs(inventory)[0]!;
  // Trust for every scenario's target dataset: the guard allows exactly these.
  const trust = replicationTrustInput(inventory);
  trust.edges = [...SCENARIOS.map((name) => `sp2/r/${name}`), ...SMALL_POOL_DATASETS]
    .map((targetDataset) => ({ source: template.source.host, target: template.target.host, targetDataset }));
  await run(() => temporal.client.workflow.execute('setupReplicationTrust', { taskQueue: temporal.taskQueue, workflowId: 'trust', args: [trust] }));
});

after(async () => {
  await temporal?.stop();
  await labDown({ dir: LAB_DIR });
});

describe('replicateDataset', () => {
  test('full, incremental and no-change runs: data and guids equal, sharenfs carried by -p, history under 100 events', async () => {
    await on(src, `zfs create sp1/t/basic && zfs set sharenfs=rw,nosuid,root=vh1-nas:vh2-nas sp1/t/basic 2>/dev/null;
      zfs get -H -o value sharenfs sp1/t/basic | grep -q root=vh1-nas
      head -c 8388608 /dev/urandom > /sp1/t/basic/random && yes esxi-zfs | head -c 4194304 > /sp1/t/basic/repeated`);
    const loginsBefore = replicationLogins();
    const full = await run(() => replicate(job('basic')));
    assert.equal(full.kind, 'full');
    assert.equal(replicationLogins() - loginsBefore, 1, 'one ssh login to the target: the stream waited for the connection the first step opened');
    assert.ok(full.bytes > 8 * 2 ** 20, `full stream counted ${full.bytes} bytes`);
    assert.equal(full.source, 'test-san-01:sp1/t/basic');
    assert.equal(full.target, 'test-san-02:sp2/r/basic');
    assert.deepEqual(await snapshots(dst, 'sp2/r/basic'), await snapshots(src, 'sp1/t/basic'));
    assert.equal(await checksums(dst, `sp2/r/basic@${full.snapshot}`), await sourceChecksums('sp1/t/basic'));
    assert.equal((await on(dst, 'zfs get -H -o received sharenfs sp2/r/basic')).trim(), 'rw,nosuid,root=vh1-nas:vh2-nas');

    await on(src, 'head -c 1048576 /dev/urandom > /sp1/t/basic/added && dd if=/dev/urandom of=/sp1/t/basic/random bs=1M count=1 conv=notrunc 2>/dev/null');
    const incremental = await run(() => replicate(job('basic')));
    assert.equal(incremental.kind, 'incremental');
    assert.equal(incremental.base, full.snapshot);
    assert.ok(incremental.bytes > 2 ** 20 && incremental.bytes < 6 * 2 ** 20, `incremental sent ${incremental.bytes} bytes`);
    assert.equal(await checksums(dst, `sp2/r/basic@${incremental.snapshot}`), await sourceChecksums('sp1/t/basic'));

    // The streams' shared ssh connection: the first stream opened it (a background master on the
    // source), and the next run streams through the same one.
    const master = async () => pidsOn(src, /esxi-zfs-[0-9a-f]+ \[mux\]/).join('\n');
    const opened = await master();
    assert.match(opened, /^\d+$/, 'one shared connection is open on the source');
    const noChange = await run(() => replicate(job('basic')));
    assert.equal(await master(), opened, 'the next run used the same shared connection');
    assert.equal(noChange.kind, 'incremental');
    assert.equal(noChange.base, incremental.snapshot);
    assert.ok(noChange.bytes < 64 * 1024, `no-change stream is small: ${noChange.bytes}`);
    assert.deepEqual(await snapshots(dst, 'sp2/r/basic'), await snapshots(src, 'sp1/t/basic'), 'same snapshots, same guids');

    const listed = [];
    for await (const w of temporal.client.workflow.list({ query: `WorkflowType = 'replicateDataset' AND dataset = 'sp1/t/basic'` })) listed.push(w);
    assert.equal(listed.length, 3, 'runs are found by their dataset search attribute');
    const history = await temporal.client.workflow.getHandle('replicate:test-san-01:sp1/t/basic').fetchHistory();
    assert.ok(history.events!.length < 100, `${history.events!.length} events`);
  });

  test('a dataset with children (-R) arrives whole', async () => {
    await on(src, `zfs create sp1/t/tree && zfs create sp1/t/tree/a && zfs create sp1/t/tree/b
      echo one > /sp1/t/tree/a/f && echo two > /sp1/t/tree/b/f`);
    const result = await run(() => replicate(job('tree', { recursive: true })));
    assert.equal(result.kind, 'full');
    const children = await on(dst, 'zfs list -H -o name -r sp2/r/tree');
    assert.deepEqual(children.trim().split('\n'), ['sp2/r/tree', 'sp2/r/tree/a', 'sp2/r/tree/b']);
    await on(src, 'echo three > /sp1/t/tree/b/g');
    const next = await run(() => replicate(job('tree', { recursive: true })));
    assert.equal(next.kind, 'incremental');
    assert.deepEqual(await snapshots(dst, 'sp2/r/tree/b'), await snapshots(src, 'sp1/t/tree/b'));
  });

  test('a diverged target is refused, named, and nothing on it is destroyed; the rollback policy rolls back only to the base', async () => {
    for (const name of ['diverged', 'rollback']) {
      await on(src, `zfs create sp1/t/${name} && echo data > /sp1/t/${name}/f`);
      await run(() => replicate(job(name)));
    }
    const base = (await snapshots(dst, 'sp2/r/diverged'))[0]!.split(' ')[0]!;
    await on(dst, 'zfs snapshot sp2/r/diverged@operator-test && zfs snapshot sp2/r/rollback@operator-test');
    const before = await snapshots(dst, 'sp2/r/diverged');

    await assert.rejects(run(() => replicate(job('diverged'))), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      const message = failureMessage(error);
      assert.match(message, /operator-test/);
      assert.match(message, new RegExp(base));
      assert.match(message, /rollback/i);
      return true;
    });
    assert.deepEqual(await snapshots(dst, 'sp2/r/diverged'), before, 'nothing on the target changed');

    const rolled = await run(() => replicate(job('rollback', { rollback: true })));
    assert.equal(rolled.rolledBackTo, rolled.base, 'rolled back to the common base only');
    const after = (await snapshots(dst, 'sp2/r/rollback')).map((s) => s.split(' ')[0]);
    assert.ok(!after.includes('operator-test'));
    assert.deepEqual(after, (await snapshots(src, 'sp1/t/rollback')).map((s) => s.split(' ')[0]));
  });

  test('an interrupted send (the SSH session killed mid-stream) is retried to success', recorded('ssh-cut/replication-stream', async (r) => {
    await on(src, 'zfs create sp1/t/interrupt && head -c 268435456 /dev/urandom > /sp1/t/interrupt/big');
    const { handle } = await startReplication(temporal.client, job('interrupt'));
    const result = await run(async () => {
      // Catch the stream as it starts (frozen: the lab's streams take about a second), kill the
      // ssh client that carries it, then let the rest run into the broken pipe.
      await freezeStream(src);
      // The pipeline's processes start together, not at once: the ssh client may come just after.
      for (let i = 0; i < 500 && signalOn(src, /^ssh -T -c /, 'SIGTERM') === 0; i++) await new Promise((r) => setTimeout(r, 20));
      signalOn(src, FREEZE_COUNTER, 'SIGCONT');
      r.recoveryStarted();
      const done = await handle.result() as ReplicationResult;
      r.recovered();
      return done;
    });
    assert.equal(result.kind, 'full');
    const history = await handle.fetchHistory();
    const attempts = history.events!.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : []));
    assert.ok(attempts.some((a) => (a ?? 1) > 1), `the send was retried (attempts ${attempts.join(',')})`);
    r.happened(`The broken pipe failed the send attempt; the activity was retried (attempts ${attempts.join(',')}) and the full send of 256 MiB completed.`);
    await recordHistory(temporal.client, handle.workflowId, 'replicateDataset-retried', (await handle.describe()).runId);
    assert.equal(await checksums(dst, `sp2/r/interrupt@${result.snapshot}`), await sourceChecksums('sp1/t/interrupt'));
    r.verified('file checksums on the target equal the source');
  }));

  test('a stalled stream is detected, stopped and retried', recorded('ssh-stall/replication-stream', async (r) => {
    await on(src, 'zfs create sp1/t/stall && head -c 134217728 /dev/urandom > /sp1/t/stall/big');
    // Freeze the byte counter on the source (inside the pipeline) until the stall is seen.
    const { handle } = await startReplication(temporal.client, job('stall', { stallTimeoutMs: 3000 }));
    const result = await run(async () => {
      let stalled = '';
      for (let i = 0; i < 300 && !stalled; i++) {
        signalOn(src, FREEZE_COUNTER, 'SIGSTOP');
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        stalled = pending.map((a) => a.lastFailure?.message ?? '').find((m) => /stalled/.test(m)) ?? '';
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(stalled, /stream stalled: no bytes for 3 s/);
      r.happened('The stall was detected after 3 s without a byte (stallTimeoutMs), the stream stopped, and the send retried to completion.');
      r.recoveryStarted();
      const done = await handle.result() as ReplicationResult;
      r.recovered();
      return done;
    });
    assert.equal(await checksums(dst, `sp2/r/stall@${result.snapshot}`), await sourceChecksums('sp1/t/stall'));
    r.verified('file checksums on the target equal the source');
  }));

  test('a worker SIGKILLed mid-send: retried after a short heartbeat timeout, its stream stopped and its zfs send holds released', recorded('worker-kill/replication-send', async (r) => {
    await on(src, 'zfs create sp1/t/crash && head -c 8388608 /dev/urandom > /sp1/t/crash/a');
    const full = await run(() => replicate(job('crash')));
    await on(src, 'head -c 67108864 /dev/urandom > /sp1/t/crash/b');
    const { handle } = await startReplication(temporal.client, job('crash'));
    const env = { ...process.env, TEMPORAL_ADDRESS: temporal.server.address };
    const worker = spawn(CLI, ['worker'], { env, stdio: 'ignore' });
    const workerGone = new Promise((resolve) => worker.once('exit', resolve));
    let groups: number[];
    try {
      await freezeStream(src);
      const scheduled = (await handle.fetchHistory()).events!
        .map((e) => e.activityTaskScheduledEventAttributes)
        .find((a) => a?.activityType?.name === 'sendSnapshot');
      const heartbeatSeconds = Number(scheduled?.heartbeatTimeout?.seconds ?? NaN);
      assert.ok(heartbeatSeconds <= 30, `sendSnapshot's heartbeat timeout is ${heartbeatSeconds} s (stallTimeout ${template.stallTimeoutMs} ms): a dead worker's send waits that long`);
      // The stream on the source: its process group, led by the stream script.
      groups = allPids().filter((pid) => processNs(pid, 'mnt') === src.ns.mnt && procFile(pid, 'cmdline').includes('esxi-zfs-pid') && processGroup(pid) === pid);
      assert.equal(groups.length, 1, `one stream script on ${src.name}: ${groups.join(', ')}`);
      // Killed once the server has the stream's pids: what the retry finds in the last heartbeat.
      let heartbeat: { sourcePid?: number; sendPid?: number } | undefined;
      for (let i = 0; i < 300 && heartbeat?.sendPid === undefined; i++) {
        const payload = (await handle.describe()).raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
        heartbeat = payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
        if (heartbeat?.sendPid === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(heartbeat?.sourcePid, groups[0], `the heartbeat names the stream: ${JSON.stringify(heartbeat)}`);
    } finally {
      worker.kill('SIGKILL');
      await workerGone;
    }

    const result = await run(async () => {
      r.recoveryStarted();
      const done = await handle.result() as ReplicationResult;
      r.recovered();
      return done;
    });
    assert.equal(result.kind, 'incremental');
    assert.equal(result.base, full.snapshot);
    const attempts = (await handle.fetchHistory()).events!.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : []));
    assert.ok(attempts.some((a) => a > 1), `the send was retried (attempts ${attempts.join(',')})`);
    r.happened(`The send's heartbeat timeout expired and a new worker retried it (attempts ${attempts.join(',')}); the retry stopped the dead attempt's stream and sent incrementally from the same base.`);
    const [group] = groups as [number];
    const leftInGroup = allPids().filter((pid) => processNs(pid, 'mnt') === src.ns.mnt && processGroup(pid) === group);
    assert.deepEqual(leftInGroup, [], 'the dead attempt\'s stream is stopped on the source');
    r.verified('no process of the dead attempt\'s stream left on the source');
    const userrefs = await on(src, 'zfs list -H -o name,userrefs -t snapshot -r sp1/t/crash');
    assert.deepEqual(userrefs.trim().split('\n').map((l) => l.split('\t')[1]), ['0', '0'], `no hold left on the source's snapshots:\n${userrefs}`);
    r.verified('no zfs hold left on the source\'s snapshots; exactly two snapshots (no duplicate from the run)');
    assert.equal(await checksums(dst, `sp2/r/crash@${result.snapshot}`), await sourceChecksums('sp1/t/crash'));
    r.verified('file checksums on the target equal the source');
  }));

  test('retention prunes exactly the expected snapshots of ours on each side, never the base nor foreign ones', async () => {
    await on(src, `zfs create sp1/t/retention && echo x > /sp1/t/retention/f
      for s in esxi-zfs_20261101T235900Z esxi-zfs_20261102T235900Z esxi-zfs_20261103T120000Z esxi-zfs_20261103T235900Z operator-keep; do zfs snapshot sp1/t/retention@$s; done`);
    const first = await run(() => replicate(job('retention', { retention: { daily: 2 } })));
    // Source: today's new snapshot and the newest of Nov 3 are the 2 days kept; Nov 1, Nov 2 and the
    // older Nov 3 one go; the operator's snapshot stays.
    const names = (await snapshots(src, 'sp1/t/retention')).map((s) => s.split(' ')[0]);
    assert.deepEqual(names, ['esxi-zfs_20261103T235900Z', 'operator-keep', first.snapshot]);
    assert.deepEqual([...first.pruned.source].sort(), ['esxi-zfs_20261101T235900Z', 'esxi-zfs_20261102T235900Z', 'esxi-zfs_20261103T120000Z']);
    // The full stream carried only the newest snapshot: nothing to prune on the target.
    assert.deepEqual(first.pruned.target, []);
    // With keep: 1, the newest common snapshot (the base of the next run) is all that stays of ours.
    const second = await run(() => replicate(job('retention', { retention: { keep: 1 } })));
    const left = (await snapshots(src, 'sp1/t/retention')).map((s) => s.split(' ')[0]);
    assert.deepEqual(left, ['operator-keep', second.snapshot]);
    const onTarget = (await snapshots(dst, 'sp2/r/retention')).map((s) => s.split(' ')[0]);
    assert.ok(onTarget.includes(second.snapshot), 'the new common base is kept on the target');
    assert.ok(!onTarget.includes(first.snapshot), 'the older snapshot of ours is pruned on the target');
    // The prune step heartbeats: a worker that dies while pruning is noticed within seconds, not minutes.
    const history = await temporal.client.workflow.getHandle('replicate:test-san-01:sp1/t/retention').fetchHistory();
    const prune = history.events!.map((e) => e.activityTaskScheduledEventAttributes).find((a) => a?.activityType?.name === 'destroySnapshots');
    const heartbeatSeconds = Number(prune?.heartbeatTimeout?.seconds ?? 0);
    assert.ok(heartbeatSeconds > 0 && heartbeatSeconds <= 60, `destroySnapshots heartbeatTimeout: ${heartbeatSeconds} s`);
  });

  test('a retried prune reports what the attempt before it destroyed (heartbeat details)', async () => {
    const { MockActivityEnvironment } = await import('@temporalio/testing');
    const names = ['esxi-zfs_20261101T235900Z', 'esxi-zfs_20261102T235900Z'];
    await on(src, `zfs create sp1/t/prune && ${names.map((n) => `zfs snapshot sp1/t/prune@${n}`).join(' && ')}`);
    const { destroySnapshots } = createDatasetActivities({ transport: temporal.transport });
    const input = { host: template.source.host, dataset: 'sp1/t/prune', names, prefix: 'esxi-zfs', protect: [] };
    // The first attempt destroys both, and its worker dies before it can report: only its heartbeats reach the server.
    const first = new MockActivityEnvironment({ attempt: 1 });
    let details: unknown;
    first.on('heartbeat', (d: unknown) => { details = d; });
    await first.run(() => destroySnapshots(input));
    assert.deepEqual(await snapshots(src, 'sp1/t/prune'), []);
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: details });
    const result = (await retry.run(() => destroySnapshots(input))) as Awaited<ReturnType<typeof destroySnapshots>>;
    assert.deepEqual([...result.destroyed].sort(), names, 'the retry reports what the dead attempt destroyed');
  });

  test('two concurrent starts for one dataset make one run', async () => {
    await on(src, 'zfs create sp1/t/concurrent && head -c 33554432 /dev/urandom > /sp1/t/concurrent/f');
    const [a, b] = await Promise.all([startReplication(temporal.client, job('concurrent')), startReplication(temporal.client, job('concurrent'))]);
    assert.deepEqual([a.started, b.started].sort(), [false, true]);
    assert.equal(a.handle.workflowId, b.handle.workflowId);
    await assert.rejects(
      temporal.client.workflow.start('replicateDataset', {
        taskQueue: temporal.taskQueue, workflowId: a.handle.workflowId, args: [job('concurrent')],
        typedSearchAttributes: replicationSearchAttributes(job('concurrent')),
      }),
      /already started/i,
    );
    await run(() => a.handle.result());
    const runs = [];
    for await (const w of temporal.client.workflow.list({ query: `WorkflowId = '${a.handle.workflowId}'` })) runs.push(w);
    assert.equal(runs.length, 1);
  });

  test('nested dataset names on hyphenated hosts', async () => {
    await on(src, 'zfs create -p sp1/t/nested/deep/vol && echo deep > /sp1/t/nested/deep/vol/f');
    const result = await run(() => replicate(job('nested/deep/vol')));
    assert.equal(result.target, 'test-san-02:sp2/r/nested/deep/vol');
    assert.equal(await checksums(dst, `sp2/r/nested/deep/vol@${result.snapshot}`), await sourceChecksums('sp1/t/nested/deep/vol'));
  });

  test('cancelling a run stops both ends and releases the holds', async () => {
    await on(src, 'zfs create sp1/t/cancel && echo a > /sp1/t/cancel/f');
    await run(() => replicate(job('cancel')));
    await on(src, 'head -c 268435456 /dev/urandom > /sp1/t/cancel/big');
    const { handle } = await startReplication(temporal.client, job('cancel'));
    await run(async () => {
      // Freeze the stream as it starts, so that it is surely still running when the cancellation
      // arrives, and wait for its first heartbeat (the cancellation comes back with one).
      await freezeStream(src);
      for (let i = 0; i < 100; i++) {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        if (pending.some((a) => a.activityType?.name === 'sendSnapshot' && a.heartbeatDetails)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await handle.cancel();
      await assert.rejects(handle.result(), /cancel/i);
    });
    assert.deepEqual(pidsOn(src, /zfs send/), [], 'no zfs send left on the source');
    assert.deepEqual(pidsOn(dst, /zfs receive/), [], 'no zfs receive left on the target');
    // Our hold is gone from every snapshot on both ends. (zfs-fuse's own temporary send holds can
    // outlive a killed `zfs send -I`: a zfs-fuse bug; retention skips held snapshots.)
    for (const [host, dataset] of [[src, 'sp1/t/cancel'], [dst, 'sp2/r/cancel']] as const) {
      for (const line of await snapshots(host, dataset)) {
        const released = await labExec(host, ['zfs', 'release', 'esxi-zfs-replication', `${dataset}@${line.split(' ')[0]}`]);
        assert.match(released.stderr, /no such tag/, `${host.name} ${dataset}@${line}: our hold was released`);
      }
    }
  });

  test('a worker killed (SIGKILL) while pruning: the prune is retried within seconds and the result lists what the dead attempt destroyed', recorded('worker-kill/prune', async (r) => {
    const names = Array.from({ length: 60 }, (_, i) => `esxi-zfs_20261001T0000${String(i).padStart(2, '0')}Z`);
    await on(src, `zfs create sp1/t/killed && echo x > /sp1/t/killed/f && for s in ${names.join(' ')}; do zfs snapshot sp1/t/killed@$s; done`);
    // A worker process of its own, so that it can be killed; the test's worker takes over after.
    const worker = spawn(path.resolve(__dirname, '../../bin/esxi-zfs.js'), ['worker'], {
      env: { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    let destroyedEarly: string[] = [];
    try {
      const { handle } = await startReplication(temporal.client, job('killed', { retention: { keep: 1 } }));
      for (let i = 0; i < 3000 && destroyedEarly.length === 0; i++) {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const payload = pending.find((a) => a.activityType?.name === 'destroySnapshots')?.heartbeatDetails?.payloads?.[0]?.data;
        if (payload) destroyedEarly = (JSON.parse(Buffer.from(payload).toString()) as { destroyed: string[] }).destroyed;
        else await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(destroyedEarly.length > 0 && destroyedEarly.length < names.length, `killed mid-prune, after ${destroyedEarly.length} of ${names.length}`);
      worker.kill('SIGKILL');
      await exited;
      const result = await run(async () => {
        r.recoveryStarted();
        const done = await handle.result() as ReplicationResult;
        r.recovered();
        return done;
      });
      for (const name of destroyedEarly) assert.ok(result.pruned.source.includes(name), `${name}, destroyed by the killed attempt, is in the result`);
      r.verified(`the ${destroyedEarly.length} snapshots the killed attempt destroyed are listed in the result`);
      assert.deepEqual((await snapshots(src, 'sp1/t/killed')).map((l) => l.split(' ')[0]), [result.snapshot]);
      r.verified('only the newest snapshot is left (keep: 1), the one the run made');
      const history = await handle.fetchHistory();
      const attempts = history.events!.flatMap((e) => e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : []);
      assert.ok(attempts.some((a) => a > 1), `the prune was retried (attempts ${attempts.join(',')})`);
      r.happened(`Killed after ${destroyedEarly.length} of ${names.length} snapshots were destroyed; the prune's heartbeat timeout expired and the retry destroyed the rest.`);
    } finally {
      worker.kill('SIGKILL');
    }
  }));

  test('clone-replica: a writable clone of the newest replicated snapshot; the replica stays incremental', async () => {
    await on(src, 'zfs create sp1/t/clone && echo v1 > /sp1/t/clone/f');
    const first = await run(() => replicate(job('clone', { retention: { keep: 1 } })));
    const clone = defaultCloneName(job('clone'));
    assert.equal(clone, 'sp2/clones/test-san-01/t/clone');
    // The inventory's share, rendered for the target's ZFS (zfs-fuse: HOST:OPTIONS per client).
    const share = { rw: true, ro: [], root: ['vh1-nas'], nosuid: true };
    const input = { replica: job('clone').target, clone, mountpoint: '/export/test-san-01-t-clone', share, replace: false };
    const cloneRun = (i: typeof input) => run(() => temporal.client.workflow.execute('cloneReplica', { taskQueue: temporal.taskQueue, workflowId: `clone-${Date.now()}`, args: [i] }));
    const made = await cloneRun(input);
    assert.equal(made.origin, `sp2/r/clone@${first.snapshot}`);
    assert.equal((await on(dst, `zfs get -H -o value origin,mountpoint,sharenfs ${clone}`)).trim().split('\n').join(' '),
      `sp2/r/clone@${first.snapshot} /export/test-san-01-t-clone ${renderSharenfs(share, 'zfs-fuse').sharenfs}`);
    assert.deepEqual(made.warnings, renderSharenfs(share, 'zfs-fuse').warnings, 'nothing but what the dialect cannot say: the share itself is served');
    assert.deepEqual((await cloneRun(input)).changed, [], 'a second run changes nothing');

    await on(dst, 'echo testing > /export/test-san-01-t-clone/scratch');
    await on(src, 'echo v2 > /sp1/t/clone/f');
    const next = await run(() => replicate(job('clone', { retention: { keep: 1 } })));
    assert.equal(next.kind, 'incremental', 'writing to the clone did not touch the replica');
    assert.deepEqual(next.pruned.target, [], 'the cloned snapshot is not pruned');
    const kept = next.warnings.filter((w) => w.includes(first.snapshot));
    assert.deepEqual(kept, [`kept test-san-02:sp2/r/clone@${first.snapshot}: it has a clone (${clone})`], next.warnings.join('\n'));
    assert.ok(next.warnings.every((w) => !w.includes('\n') && !/-R/.test(w)), 'no raw zfs refusal in the result');

    await assert.rejects(cloneRun(input), (e: unknown) => /--replace/.test(failureMessage(e)));
    const replaced = await cloneRun({ ...input, replace: true });
    assert.equal(replaced.origin, `sp2/r/clone@${next.snapshot}`);
  });

  // Snapshots are matched by guid; each side's commands (hold, release, rollback) use that side's own name.
  test('a common snapshot renamed on the source is still the base', async () => {
    await on(src, 'zfs create sp1/t/renamed-src && echo one > /sp1/t/renamed-src/f');
    const first = await run(() => replicate(job('renamed-src')));
    await on(src, `zfs rename sp1/t/renamed-src@${first.snapshot} sp1/t/renamed-src@moved && echo two > /sp1/t/renamed-src/f`);
    const next = await run(() => replicate(job('renamed-src')));
    assert.equal(next.kind, 'incremental');
    assert.equal(next.base, 'moved', 'the base as the source names it');
    assert.equal(await checksums(dst, `sp2/r/renamed-src@${next.snapshot}`), await sourceChecksums('sp1/t/renamed-src'));
  });

  test('a common snapshot renamed on the target is still the base', async () => {
    await on(src, 'zfs create sp1/t/renamed-dst && echo one > /sp1/t/renamed-dst/f');
    const first = await run(() => replicate(job('renamed-dst')));
    await on(dst, `zfs rename sp2/r/renamed-dst@${first.snapshot} sp2/r/renamed-dst@moved`);
    await on(src, 'echo two > /sp1/t/renamed-dst/f');
    const next = await run(() => replicate(job('renamed-dst')));
    assert.equal(next.kind, 'incremental');
    assert.equal(next.base, first.snapshot, 'the base as the source names it');
    assert.equal(await checksums(dst, `sp2/r/renamed-dst@${next.snapshot}`), await sourceChecksums('sp1/t/renamed-dst'));
    const guids = async (host: LabHostState, dataset: string) => (await snapshots(host, dataset)).map((s) => s.split(' ')[1]);
    assert.deepEqual(await guids(dst, 'sp2/r/renamed-dst'), await guids(src, 'sp1/t/renamed-dst'));
  });

  test('a target pool without room: refused before sending when clearly too small, otherwise the receive\'s out of space fails at once; both explained', async () => {
    await on(dst, 'truncate -s 96M /srv/disks/small && zpool create sp3 /srv/disks/small');
    const available = Number((await on(dst, 'zfs get -H -p -o value available sp3')).trim());
    const mib = (n: number) => Math.ceil(n / 2 ** 20);
    const toSmallPool = (name: string) => job(name, { target: { ...template.target, dataset: `sp3/${name}` } });
    const refused = (expect: RegExp) => (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      const message = failureMessage(error);
      assert.match(message, /pool sp3 on test-san-02/, message);
      assert.match(message, /MiB \(\d+ bytes\) available/, message);
      assert.match(message, expect, message);
      assert.ok(!message.includes('\n'), `one line: ${message}`);
      return true;
    };
    const attempts = async (name: string) => (await temporal.client.workflow.getHandle(`replicate:test-san-01:sp1/t/${name}`).fetchHistory()).events!
      .flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : []));

    // Clearly too big: the source's snapshot refers to twice what the target pool has.
    await on(src, `zfs create sp1/t/full && head -c ${mib(available) * 2 * 2 ** 20} /dev/urandom > /sp1/t/full/big`);
    await assert.rejects(run(() => replicate(toSmallPool('full'))), refused(/not enough space: .* and the stream needs about [\d.]+ MiB .*Refused before sending/));
    assert.equal((await labExec(dst, ['zfs', 'get', '-H', 'type', 'sp3/full'])).code, 1, 'nothing was received');
    assert.deepEqual(await attempts('full'), [1], 'the send step ran once');

    // An incremental whose estimate looks small (a file rewritten in place) runs into the full pool: no retries.
    await on(src, `zfs create sp1/t/rewrite && head -c ${mib(available * 0.6) * 2 ** 20} /dev/urandom > /sp1/t/rewrite/big`);
    await run(() => replicate(toSmallPool('rewrite')));
    await on(src, `dd if=/dev/urandom of=/sp1/t/rewrite/big bs=1M count=${mib(available * 0.6)} conv=notrunc 2>/dev/null`);
    await assert.rejects(run(() => replicate(toSmallPool('rewrite'))), refused(/ran out of space/));
    assert.deepEqual(await attempts('rewrite'), [1], 'the send step ran once');
  });

  test('replicate --wait (CLI): Ctrl-C stops following and says the run goes on, with its link; a failed run names both ends', async () => {
    await on(src, 'zfs create sp1/t/cli && head -c 16777216 /dev/urandom > /sp1/t/cli/data');
    // The lab's inventory, its dataset renamed to this test's (the receive guard allows sp2/r/cli).
    const inventoryFile = path.join(LAB_DIR, 'cli-inventory.yaml');
    fs.writeFileSync(inventoryFile, fs.readFileSync(lab.inventoryFile, 'utf8').replaceAll('sp1/nas/vol0', 'sp1/t/cli').replaceAll('sp2/nas/vol0', 'sp2/r/cli'));
    const env = { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace, TEMPORAL_UI_URL: temporal.server.uiUrl };
    const replicateCli = () => {
      const cli = spawn(process.execPath, [CLI, 'replicate', inventoryFile, '--dataset', 'sp1/t/cli', '--wait'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => cli.on('exit', (code) => resolve({ code, stderr })));
      return { cli, exited };
    };
    const id = 'replicate:test-san-01:sp1/t/cli';
    await run(async () => {
      const { cli, exited } = replicateCli();
      await freezeStream(src); // the run is surely still going when Ctrl-C comes
      cli.kill('SIGINT');
      const { code, stderr } = await exited;
      assert.equal(code, 130);
      assert.match(stderr, new RegExp(`stopped following ${id}; the run continues on the worker: ${temporal.server.uiUrl}/namespaces/`));
      assert.match(stderr, new RegExp(`temporal workflow cancel --workflow-id '${id}'`));
      signalOn(src, FREEZE_COUNTER, 'SIGCONT');
      const result = await temporal.client.workflow.getHandle<() => Promise<ReplicationResult>>(id).result();
      assert.equal(result.kind, 'full', 'the run went on after the CLI stopped following it');
    });

    await on(dst, 'zfs snapshot sp2/r/cli@operator-test');
    const failed = await run(() => replicateCli().exited);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^replication of test-san-01:sp1\/t\/cli -> test-san-02:sp2\/r\/cli failed: Target sp2\/r\/cli on test-san-02 has 1 snapshot newer than the common base/m);
  });

  test('a schedule fires a real run on the dev server', async () => {
    await on(src, 'zfs create sp1/t/sched && echo scheduled > /sp1/t/sched/f');
    const inventory = requireInventory(lab.inventoryFile);
    const dataset = inventory.hosts[0]!.storageVm!.datasets[0]!;
    dataset.name = 'sp1/t/sched';
    dataset.replicateTo = { ...dataset.replicateTo!, dataset: 'sp2/r/sched' };
    const desired = desiredSchedules(inventory, TASK_QUEUE).find((d) => d.job.source.dataset === 'sp1/t/sched')!;
    assert.deepEqual(desired.options.spec, { cronExpressions: ['59 23 * * *'], timezone: 'America/Chicago' });
    // The inventory's own spec fires at 23:59 Chicago time; this one fires within seconds.
    const schedule = await temporal.client.schedule.create({ ...desired.options, spec: { intervals: [{ every: '3s' }] } });
    try {
      const result = await run(async () => {
        for (let i = 0; i < 300; i++) {
          for await (const w of temporal.client.workflow.list({ query: `WorkflowType = 'replicateDataset' AND dataset = 'sp1/t/sched' AND ExecutionStatus = 'Completed'` })) {
            const child = temporal.client.workflow.getHandle(w.workflowId, w.runId);
            const parent = (await child.describe()).parentExecution;
            assert.ok(parent?.workflowId && parent.runId, 'the run was started by the schedule\'s scheduledReplication');
            await temporal.client.workflow.getHandle(parent.workflowId, parent.runId).result();
            await recordHistory(temporal.client, parent.workflowId, 'scheduledReplication', parent.runId);
            return child.result() as Promise<ReplicationResult>;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
        throw new Error('no scheduled run completed');
      });
      assert.equal(result.source, 'test-san-01:sp1/t/sched');
      assert.equal(await checksums(dst, `sp2/r/sched@${result.snapshot}`), await sourceChecksums('sp1/t/sched'));
    } finally {
      await schedule.delete();
    }
  });
});
