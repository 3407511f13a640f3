/**
 * Reliability faults of issue 13 on the lab (three hosts, real sshd and zfs-fuse, a real dev server):
 * - clock skew: the storage hosts' wall clocks hours ahead of or behind the worker's (libfaketime,
 *   lab/clock.ts), changed between runs the way NTP would put them right or a drifting clock would
 *   jump. Snapshot names carry workflow time; ZFS stamps `creation` with the host's clock; ordering
 *   is createtxg's. Each scenario makes `creation` order disagree with the real order, so anything
 *   ordering by it would pick the wrong base or prune the wrong snapshot.
 * - a replication schedule firing while the hosts are hours ahead: schedules run on the server's
 *   clock, and the runs they start name and order their snapshots as at any other time.
 * - fifty datasets on one host, each with its schedule, all triggered at once, while one of the two
 *   target hosts is down (its sshd stopped): a spawned `esxi-zfs worker` process, its peak RSS read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { temporal as proto } from '@temporalio/proto';
import { labDown, labSetClock, labUp, type LabHostState, type LabState } from '../../lab/lab';
import { sshBanner, SSHD } from '../../lab/daemons';
import { clockOffset } from '../../lab/clock';
import { pidsInNamespaces, processExe, terminate } from '../../lab/sys';
import { requireInventory } from '../../inventory/load';
import { replicationJobs, replicationTrustInput } from '../../inventory/jobs';
import { replicationScheduleId, replicationWorkflowId, type ReplicationJob, type ReplicationResult } from '../../core/replication/shared';
import { desiredSchedule } from '../../activities/schedules/desired';
import type { ScheduledReplicationResult } from '../../workflows/scheduled-replication';
import { parseOurTime } from '../../core/zfs/snapshot-name';
import { startReplication } from '../../scripts/replication-start';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { configureLab } from '../helpers/lab-configure';
import { on, scenarioJob } from '../helpers/lab-replication';
import { recorded } from '../helpers/reliability';

const run = promisify(execFile);
const CLI = path.join(__dirname, '../../bin/esxi-zfs.js');
const LAB_DIR = path.resolve(__dirname, '../../.data/lab-fault-scale-test');
const SKEW_SCENARIOS = ['ahead', 'behind', 'scheduled'];
const FIFTY = 50;
const HOUR = 3600;

let lab: LabState;
let temporal: TestTemporal;
let template: ReplicationJob;
let src: LabHostState;
let dst: LabHostState;
let down: LabHostState;
let tmp: string;
let fiftyInventoryFile: string;

const fiftyName = (i: number) => `d${String(i).padStart(2, '0')}`;
/** Even datasets go to test-san-02 (up), odd ones to test-san-03 (down). */
const fiftyTarget = (i: number) => (i % 2 === 0 ? { vm: 'test-san-02', dataset: `sp2/f/${fiftyName(i)}` } : { vm: 'test-san-03', dataset: `sp3/f/${fiftyName(i)}` });

/** The lab inventory plus fifty datasets sp1/f/dNN on test-san-01, each replicated on its own schedule; quick retries. */
function fiftyInventory(labInventoryFile: string): string {
  const doc = parseDocument(fs.readFileSync(labInventoryFile, 'utf8'));
  doc.setIn(['replication', 'retry'], doc.createNode({ maximumAttempts: 2, initialInterval: '1s', maximumInterval: '1s' }));
  doc.setIn(['replication', 'retention'], doc.createNode({ keep: 3 }));
  for (let i = 0; i < FIFTY; i++) {
    doc.addIn(['hosts', 0, 'storageVm', 'datasets'], doc.createNode({ name: `sp1/f/${fiftyName(i)}`, replicateTo: fiftyTarget(i) }));
  }
  return doc.toString();
}

before(async () => {
  [lab, temporal] = await Promise.all([labUp({ names: ['test-san-01', 'test-san-02', 'test-san-03'], dir: LAB_DIR }), startTestTemporal('fault-scale')]);
  [src, dst, down] = lab.hosts as [LabHostState, LabHostState, LabHostState];
  await configureLab(temporal, lab);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'esxi-zfs-fault-scale-'));
  fiftyInventoryFile = path.join(tmp, 'fifty.yaml');
  fs.writeFileSync(fiftyInventoryFile, fiftyInventory(lab.inventoryFile));
  const inventory = requireInventory(fiftyInventoryFile);
  template = replicationJobs(inventory)[0]!;
  const creates = Array.from({ length: FIFTY }, (_, i) => `zfs create sp1/f/${fiftyName(i)} && echo ${i} > /sp1/f/${fiftyName(i)}/f`).join('\n');
  await Promise.all([
    on(src, `set -e\nzfs create sp1/t\nzfs create sp1/f\n${creates}`),
    on(dst, 'zfs create sp2/r && zfs create sp2/f'),
    on(down, 'zfs create sp3/f'),
  ]);
  const trust = replicationTrustInput(inventory);
  trust.edges.push(...SKEW_SCENARIOS.map((name) => ({ source: template.source.host, target: template.target.host, targetDataset: `sp2/r/${name}` })));
  await temporal.withWorker(() => temporal.client.workflow.execute('setupReplicationTrust', { taskQueue: temporal.taskQueue, workflowId: 'trust', args: [trust] }));
});

after(async () => {
  await temporal?.stop();
  await labDown({ dir: LAB_DIR });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Sets the clock of the source and the target hosts `offset` off (rebooting each that changes); SSH connections start afresh. */
async function setClocks(offset: string): Promise<void> {
  for (const host of [src.name, dst.name]) {
    if ((clockOffset(lab.hosts.find((h) => h.name === host)!) ?? '0') === offset) continue;
    lab = (await labSetClock({ dir: LAB_DIR, host, offset })).state;
  }
  await temporal.pool.closeAll();
}

/** `name guid creation` of a dataset's snapshots in createtxg order. */
async function snapshots(host: LabHostState, dataset: string): Promise<{ name: string; guid: string; creation: number }[]> {
  const out = await on(host, `zfs get -H -p -d 1 -o name,property,value createtxg,guid,creation ${dataset} | grep @`);
  const byName = new Map<string, Record<string, string>>();
  for (const line of out.trim().split('\n')) {
    const [full, property, value] = line.split('\t') as [string, string, string];
    const name = full.split('@')[1]!;
    byName.set(name, { ...byName.get(name), [property]: value });
  }
  return [...byName].map(([name, p]) => ({ name, guid: p.guid!, creation: Number(p.creation), createtxg: BigInt(p.createtxg!) }))
    .sort((a, b) => (a.createtxg < b.createtxg ? -1 : 1))
    .map(({ name, guid, creation }) => ({ name, guid, creation }));
}

/** One replication run (the test's worker polling); the snapshot's name time checked against the worker's clock around it. */
async function replicate(job: ReplicationJob): Promise<ReplicationResult> {
  const before = Math.floor(Date.now() / 1000);
  const result = await (await startReplication(temporal.client, job)).handle.result();
  const named = parseOurTime(job.snapshotPrefix, result.snapshot)!.getTime() / 1000;
  assert.ok(named >= before - 1 && named <= Date.now() / 1000 + 1, `${result.snapshot} is named for the worker's time (${new Date(before * 1000).toISOString()} or just after)`);
  return result;
}

/** The host's offset as ZFS recorded it: the snapshot's `creation` minus the (workflow) time in its name. */
async function creationOffsetHours(job: ReplicationJob, snapshot: string): Promise<number> {
  const listed = (await snapshots(src, job.source.dataset)).find((s) => s.name === snapshot)!;
  return Math.round((listed.creation - parseOurTime(job.snapshotPrefix, snapshot)!.getTime() / 1000) / HOUR);
}

/**
 * Three runs, the hosts' clocks `first` for the first (and `second` for the others): the third
 * snapshot's `creation` is hours before one of the earlier ones. Afterwards: each run's base the
 * previous run's snapshot, every snapshot sent, retention (keep 2) pruning the oldest on each side.
 */
async function skewScenario(name: string, clocks: { first: string; later: string; changeAfter: 1 | 2 }, r: Parameters<Parameters<typeof recorded>[1]>[0]): Promise<void> {
  const job = scenarioJob(template, name);
  await on(src, `zfs create sp1/t/${name} && head -c 1048576 /dev/urandom > /sp1/t/${name}/a`);
  await setClocks(clocks.first);
  const results: ReplicationResult[] = [];
  const offsets: number[] = [];
  await temporal.withWorker(async () => {
    for (let i = 0; i < 3; i++) {
      if (i === clocks.changeAfter) await setClocks(clocks.later);
      await on(src, `head -c 262144 /dev/urandom > /sp1/t/${name}/run${i}`);
      // The last run prunes (keep 2): the first snapshot's creation is read before it goes.
      const result = await replicate(i === 2 ? { ...job, retention: { keep: 2 } } : job);
      results.push(result);
      if (i < 2) offsets.push(await creationOffsetHours(job, result.snapshot));
    }
  });
  const [s1, s2, s3] = results.map((x) => x.snapshot) as [string, string, string];
  offsets.push(await creationOffsetHours(job, s3));
  const expected = [0, 1, 2].map((i) => Number.parseInt(i < clocks.changeAfter ? clocks.first : clocks.later, 10) || 0);
  assert.deepEqual(offsets, expected, 'each snapshot\'s creation is the host\'s skewed clock (creation minus name time, hours)');
  r.happened(`Three runs; the hosts' clocks ${clocks.first} then ${clocks.later} (libfaketime on zfs-fuse and sshd): the snapshots' creation times were off by ${offsets.join(', ')} h from the worker's, so creation order disagreed with the real order; names stayed the worker's time.`);
  r.verified(`snapshot names carry the workflow's (worker's) time whatever the host clock; ZFS creation carries the host's (${offsets.join(', ')} h off)`);

  assert.equal(results[0]!.kind, 'full');
  assert.deepEqual(results.slice(1).map((x) => [x.kind, x.base]), [['incremental', s1], ['incremental', s2]]);
  r.verified('each incremental took the previous run\'s snapshot as its base (createtxg order), none was called up to date');

  const left = await snapshots(src, job.source.dataset);
  const onTarget = await snapshots(dst, job.target.dataset);
  assert.deepEqual(left.map((s) => s.name), [s2, s3], 'source keeps the newest two (by createtxg)');
  assert.deepEqual(onTarget.map((s) => [s.name, s.guid]), left.map((s) => [s.name, s.guid]), 'target holds the same snapshots, same guids');
  assert.deepEqual(results[2]!.pruned, { source: [s1], target: [s1] });
  r.verified('retention keep 2 pruned exactly the oldest snapshot on each side, never the base nor the newest, whatever their creation times');
}

describe('clock skew between the storage hosts and the worker', () => {
  test('hosts 5 h ahead, then put right: bases, order and retention follow createtxg, not creation', recorded('clock-skew/ahead', async (r) => {
    await skewScenario('ahead', { first: '+5h', later: '0', changeAfter: 2 }, r);
  }));

  test('hosts put 5 h behind between runs: bases, order and retention follow createtxg, not creation', recorded('clock-skew/behind', async (r) => {
    try {
      await skewScenario('behind', { first: '0', later: '-5h', changeAfter: 1 }, r);
    } finally {
      await setClocks('0');
    }
  }));

  test('the product\'s schedule firing while the hosts are 3 h ahead: it fires on the server\'s clock; its runs are named for their firing and incremental', recorded('clock-skew/schedule', async (r) => {
    try {
      const job = scenarioJob(template, 'scheduled', { schedule: { cron: '59 23 * * *', timezone: 'UTC' } });
      await on(src, 'zfs create sp1/t/scheduled && head -c 262144 /dev/urandom > /sp1/t/scheduled/a');
      await setClocks('+3h');
      // The schedule apply would create for the job, firing every 4 s instead of nightly: who fires it is the same.
      const handle = await temporal.client.schedule.create({ ...desiredSchedule(job, temporal.taskQueue)!.options, spec: { intervals: [{ every: '4s' }] } });
      r.happened('The source and target hosts\' clocks were set 3 h ahead (libfaketime); the replication schedule of a dataset was created firing every 4 s.');
      const results = await temporal.withWorker(async () => {
        const fired = await eventually('two firings', async () => {
          const d = await handle.describe();
          return d.info.recentActions.length >= 2 ? d : undefined;
        }, 60_000);
        await handle.pause('the two firings are in');
        const next = fired.info.nextActionTimes[0]!.getTime();
        assert.ok(Math.abs(next - Date.now()) < 10_000, `next firing ${new Date(next).toISOString()} is by the server's clock (now ${new Date().toISOString()})`);
        const [a, b] = fired.info.recentActions.slice(0, 2);
        assert.equal(b!.scheduledAt.getTime() - a!.scheduledAt.getTime(), 4000, 'the firings 4 s apart');
        r.verified(`the schedule fired every 4 s by the server's clock (firings ${a!.scheduledAt.toISOString()}, ${b!.scheduledAt.toISOString()}); its next firing was 4 s ahead of the worker's clock, not 3 h`);
        return Promise.all([a!, b!].map(async (action) => ({
          firedAt: action.takenAt.getTime(),
          result: (await temporal.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId).result()) as ScheduledReplicationResult,
        })));
      });
      await handle.delete();
      const [first, second] = results.map(({ firedAt, result }) => {
        assert.ok(!('skipped' in result), JSON.stringify(result));
        const named = parseOurTime(job.snapshotPrefix, result.snapshot)!.getTime();
        assert.ok(named >= firedAt - 1000 && named <= firedAt + 10_000, `${result.snapshot} is named for its firing (${new Date(firedAt).toISOString()})`);
        return result;
      }) as [ReplicationResult, ReplicationResult];
      assert.equal(first.kind, 'full');
      assert.deepEqual([second.kind, second.base], ['incremental', first.snapshot]);
      assert.equal(await creationOffsetHours(job, second.snapshot), 3, 'ZFS stamped the snapshot with the host\'s clock, 3 h ahead');
      r.verified(`both scheduled runs completed, each snapshot named for its firing (${first.snapshot}, ${second.snapshot}) while ZFS stamped them 3 h ahead; the second incremental from the first`);
    } finally {
      await setClocks('0');
    }
  }));
});

/** Peak resident set (VmHWM) of a process, in MiB. */
function peakRssMiB(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Math.round(Number(line?.split(/\s+/)[1]) / 1024);
}

/** Polls `fn` every 500 ms until it returns a value, at most `timeoutMs`. */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface StatusRow {
  host: string;
  dataset: string;
  target: string;
  last?: { status: string; kind?: string; failure?: string };
  inProgress: boolean;
}

describe('fifty datasets on one host scheduled at once, one target down', () => {
  test('the 25 whose target is up complete, the 25 whose target is down fail clearly and show in status; the worker stays small', recorded('fifty-datasets/one-target-down', async (r) => {
    const env = { ...process.env, TEMPORAL_ADDRESS: temporal.server.address, TEMPORAL_NAMESPACE: temporal.server.namespace };
    const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { env, timeout: 60_000 }).then(
      (x) => ({ code: 0, stdout: x.stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr }),
    );
    const inventory = requireInventory(fiftyInventoryFile);
    const jobs = replicationJobs(inventory).filter((j) => j.source.dataset.startsWith('sp1/f/'));
    assert.equal(jobs.length, FIFTY);
    const applied = await cli('schedules', 'apply', fiftyInventoryFile);
    assert.equal(applied.code, 0, `schedules apply: ${JSON.stringify(applied)}`);

    // test-san-03 down for SSH: its sshd and every session of it stopped.
    const sshds = pidsInNamespaces({ mnt: [down.ns.mnt] }).filter((pid) => processExe(pid) === SSHD);
    assert.deepEqual(await terminate(sshds), []);
    assert.equal(await sshBanner(down.address, 1000), '', `${down.name} does not answer SSH`);

    const worker = spawn(CLI, ['worker'], { env: { ...env, NODE_OPTIONS: '--max-semi-space-size=2' }, stdio: 'ignore' });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    let peak = 0;
    const watch = setInterval(() => {
      try {
        peak = Math.max(peak, peakRssMiB(worker.pid!));
      } catch {
        // exited
      }
    }, 250);
    try {
      // Timed from when the worker polls (it bundles the workflows first).
      await eventually('the worker to poll', async () => {
        const { pollers } = await temporal.client.workflowService.describeTaskQueue({
          namespace: temporal.server.namespace, taskQueue: { name: temporal.taskQueue }, taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        return (pollers ?? []).length > 0 ? true : undefined;
      }, 60_000);
      const started = Date.now();
      // The same minute for all: every schedule triggered at once (what its cron firing does).
      await Promise.all(jobs.map((job) => temporal.client.schedule.getHandle(replicationScheduleId(job)).trigger()));
      const closed = await eventually('every dataset\'s replication to close', async () => {
        const states = await Promise.all(jobs.map(async (job) => {
          try {
            return (await temporal.client.workflow.getHandle(replicationWorkflowId(job)).describe()).status.name;
          } catch {
            return 'NOT_STARTED';
          }
        }));
        return states.every((s) => s !== 'RUNNING' && s !== 'NOT_STARTED') ? states : undefined;
      }, 150_000);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      peak = Math.max(peak, peakRssMiB(worker.pid!));
      const expected = jobs.map((job) => (job.target.host.name === down.name ? 'FAILED' : 'COMPLETED'));
      assert.deepEqual(closed, expected, 'those to test-san-02 completed, those to test-san-03 failed');
      r.happened(`50 schedules triggered at once on one worker process; ${down.name} (25 targets) refused SSH. The 25 runs to ${dst.name} completed and the 25 to ${down.name} failed after their retries, all within ${seconds} s; the worker's peak RSS was ${peak} MiB.`);
      r.verified('every dataset whose target was up completed');

      for (const job of jobs.filter((j) => j.target.host.name === dst.name)) {
        const guids = (host: LabHostState, dataset: string) => on(host, `zfs get -H -p -d 1 -o name,value guid ${dataset} | grep @ | cut -f2 | sort`);
        const [source, target] = await Promise.all([guids(src, job.source.dataset), guids(dst, job.target.dataset)]);
        assert.ok(source.trim() !== '' && source === target, `${job.target.dataset} has ${job.source.dataset}'s snapshots`);
      }
      r.verified('each replica on the up target holds its source\'s snapshots (same guids)');

      assert.ok(peak > 0 && peak < 400, `worker peak RSS ${peak} MiB (bound 400 MiB)`);
      r.verified(`the worker's peak RSS (VmHWM) stayed under 400 MiB: ${peak} MiB`);

      const status = await cli('status', fiftyInventoryFile, '--json', '--replication-only');
      assert.equal(status.code, 1, 'status exits 1: unhealthy');
      const parsed = JSON.parse(status.stdout) as { healthy: boolean; problems: { subject: string; message: string }[]; replication: StatusRow[] };
      assert.equal(parsed.healthy, false);
      const rows = new Map(parsed.replication.map((row) => [row.dataset, row]));
      for (const job of jobs) {
        const row = rows.get(job.source.dataset);
        assert.ok(row, `status lists ${job.source.dataset}`);
        assert.equal(row.inProgress, false);
        if (job.target.host.name === dst.name) {
          assert.equal(row.last?.status, 'COMPLETED');
          assert.equal(row.last?.kind, 'full');
        } else {
          assert.equal(row.last?.status, 'FAILED', `${job.source.dataset}: ${JSON.stringify(row.last)}`);
          assert.match(row.last?.failure ?? '', new RegExp(`ssh ${down.name} \\(${down.address.replace(/\./g, '\\.')}:22\\): cannot connect`), `the failure names the host that is down: ${row.last?.failure}`);
          const problem = parsed.problems.find((p) => p.subject === `${job.source.host.name}:${job.source.dataset}`);
          assert.match(problem?.message ?? '', /^last replication failed: /, `${job.source.dataset} is a problem in status`);
        }
      }
      const failure = rows.get(jobs[1]!.source.dataset)!.last!.failure!;
      r.verified(`\`esxi-zfs status --json\` lists all 25 failed datasets as problems ("last replication failed: ${failure.slice(0, 160)}") and the 25 others completed`);
    } finally {
      clearInterval(watch);
      worker.kill('SIGTERM');
      const killer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
  }));
});
