/**
 * Replication schedules against a real Temporal dev server (its own SQLite db and free ports):
 * apply creates, leaves equal schedules untouched (same conflict token), updates exactly what
 * changed, deletes what the inventory dropped; pause/unpause; list and status through the CLI; and
 * a schedule firing on its own, starting scheduledReplication, which starts the replicateDataset
 * child (a worker runs the real workflows bundle with no activities: the child waits for its first
 * activity, which is enough here; real runs are in the replication lab test).
 */
import { SearchAttribute } from '../../core/search-attributes';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { Client, Connection, ScheduleOverlapPolicy, type ScheduleDescription } from '@temporalio/client';
import type { TypedSearchAttributes } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { requireInventory } from '../../inventory/load';
import { findJob } from '../../inventory/jobs';
import { replicationWorkflowId } from '../../core/replication/shared';
import type { DevServer } from '../../workers/dev-server';
import { startOnFreePorts } from '../helpers/temporal';
import { TASK_QUEUE } from '../../workers/config';
import { applySchedules } from '../../activities/schedules/apply';
import { listSchedules, pauseSchedule, unpauseSchedule } from '../../activities/schedules/control';
import { calendarToCron } from '../../activities/schedules/crontab';
import { desiredSchedules } from '../../activities/schedules/desired';
import { formatInZone, replicationStatus } from '../../scripts/status';
import { recordHistory } from '../helpers/record-history';

const run = promisify(execFile);
const EXAMPLE = path.join(__dirname, '../../examples/runbook.yaml');
const CLI = path.join(__dirname, '../../bin/esxi-zfs.js');
const VOL0 = 'esxi-zfs:replicate:uss1:sp1/nas/vol0';
const VOL1 = 'esxi-zfs:replicate:uss2:sp2/nas/vol1';
const VOL2 = 'esxi-zfs:replicate:uss1:sp1/nas/vol2';

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The example plus a third replicated dataset on uss1 with its own schedule; `edit` changes it further. */
function inventoryText(edit: (doc: ReturnType<typeof parseDocument>) => void = () => undefined): string {
  const doc = parseDocument(readFileSync(EXAMPLE, 'utf8'));
  doc.addIn(['hosts', 1, 'storageVm', 'datasets'], doc.createNode({
    name: 'sp1/nas/vol2',
    replicateTo: { vm: 'uss2', dataset: 'sp2/nas/vol2', schedule: { cron: '0 3 * * *', timezone: 'UTC' } },
  }));
  edit(doc);
  return doc.toString();
}

const VOL2_SCHEDULE = ['hosts', 1, 'storageVm', 'datasets', 1, 'replicateTo', 'schedule'];

describe('replication schedules on a real dev server', () => {
  let dir: string;
  let server: DevServer | undefined;
  let connection: Connection | undefined;
  let client: Client;
  let env: NodeJS.ProcessEnv;

  /** Writes an inventory file and returns its path. */
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cli = async (...args: string[]) => (await run(process.execPath, [CLI, ...args], { env, timeout: 30_000 })).stdout;
  /** `esxi-zfs status ARGS`: its output, and its exit code (1: something is not healthy). */
  const statusCli = (...args: string[]) => run(process.execPath, [CLI, 'status', ...args], { env, timeout: 30_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
  const describeAll = async (ids: string[]) =>
    Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await client.schedule.getHandle(id).describe()] as const)));
  const token = (d: ScheduleDescription) => Buffer.from(d.raw.conflictToken ?? []).toString('hex');

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'schedules-test-'));
    const t0 = Date.now();
    server = await startOnFreePorts(path.join(dir, 'temporal.sqlite'));
    console.log(`dev server ${server.address} pid ${server.pid} up in ${Date.now() - t0} ms`);
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, TEMPORAL_UI_URL: server.uiUrl };
  });

  after(async () => {
    await connection?.close().catch(() => undefined);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('apply (CLI) creates one schedule per replicated dataset, as the inventory says', async () => {
    // A schedule that is not ours, in the same namespace: apply must leave it alone.
    await client.schedule.create({
      scheduleId: 'someone-else:nightly',
      spec: { cronExpressions: ['0 1 * * *'] },
      action: { type: 'startWorkflow', workflowType: 'other', taskQueue: 'other', args: [] },
      state: { paused: true },
    });
    const inv = file('inv.yaml', inventoryText());
    const result = JSON.parse(await cli('schedules', 'apply', inv, '--json'));
    assert.deepEqual([...result.created].sort(), [VOL0, VOL2, VOL1].sort());
    assert.deepEqual([result.updated, result.unchanged, result.deleted], [[], [], []]);

    const d = await describeAll([VOL0, VOL1, VOL2]);
    for (const id of [VOL0, VOL1]) {
      assert.equal(calendarToCron(d[id]!.spec.calendars![0]!), '59 23 * * *');
      assert.equal(d[id]!.spec.timezone, 'America/Chicago');
    }
    assert.equal(calendarToCron(d[VOL2]!.spec.calendars![0]!), '0 3 * * *');
    assert.equal(d[VOL2]!.spec.timezone, 'UTC');
    const vol0 = d[VOL0]!;
    assert.deepEqual(vol0.policies, { overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: false });
    assert.equal(vol0.action.workflowType, 'scheduledReplication');
    assert.equal(vol0.action.workflowId, 'replicate:uss1:sp1/nas/vol0:scheduled');
    assert.equal(vol0.action.taskQueue, TASK_QUEUE);
    const attributes = vol0.action.typedSearchAttributes as TypedSearchAttributes;
    assert.equal(attributes.get(SearchAttribute.dataset), 'sp1/nas/vol0');
    assert.equal(attributes.get(SearchAttribute.host), 'uss1');
    assert.equal(attributes.get(SearchAttribute.runbook), 'scheduled-replication');
    assert.deepEqual(vol0.memo, { managedBy: 'esxi-zfs' });
    assert.equal(vol0.state.paused, false);
    assert.deepEqual(vol0.action.args, [JSON.parse(JSON.stringify(findJob(requireInventory(inv), 'sp1/nas/vol0')))]);
  });

  test('apply again: everything unchanged and nothing modified on the server', async () => {
    const ids = [VOL0, VOL1, VOL2];
    const before = await describeAll(ids);
    const out = await cli('schedules', 'apply', path.join(dir, 'inv.yaml'));
    assert.match(out, /0 created, 0 updated, 3 unchanged, 0 deleted/);
    const result = await applySchedules(client, desiredSchedules(requireInventory(path.join(dir, 'inv.yaml')), TASK_QUEUE), { prune: true });
    assert.deepEqual(result.unchanged.sort(), [...ids].sort());
    const after = await describeAll(ids);
    for (const id of ids) {
      assert.equal(token(after[id]!), token(before[id]!), `${id}: conflict token unchanged`);
      assert.equal(after[id]!.info.lastUpdatedAt, undefined, `${id}: never updated`);
    }
  });

  test('a changed cron updates exactly that schedule; a crontab day-of-month OR day-of-week keeps its meaning', async () => {
    const before = await describeAll([VOL0, VOL1, VOL2]);
    const inventory = requireInventory(file('inv.yaml', inventoryText((doc) => doc.setIn([...VOL2_SCHEDULE, 'cron'], '0 0 1 * 1'))));
    const result = await applySchedules(client, desiredSchedules(inventory, TASK_QUEUE), { prune: true });
    assert.deepEqual(result.updated, [VOL2]);
    assert.deepEqual(result.unchanged.sort(), [VOL0, VOL1].sort());
    assert.deepEqual([result.created, result.deleted], [[], []]);
    assert.ok(result.changes[VOL2]!.some((c) => c === 'cron: 0 3 * * * -> 0 0 1 * * | 0 0 * * 1'), result.changes[VOL2]!.join('\n'));

    const after = await describeAll([VOL0, VOL1, VOL2]);
    assert.equal(token(after[VOL0]!), token(before[VOL0]!));
    assert.equal(token(after[VOL1]!), token(before[VOL1]!));
    assert.notEqual(token(after[VOL2]!), token(before[VOL2]!));
    assert.ok(after[VOL2]!.info.lastUpdatedAt);
    // crontab "0 0 1 * 1" = the 1st of every month AND every Monday: both kinds of day come next
    const next = after[VOL2]!.info.nextActionTimes;
    assert.ok(next.some((t) => t.getUTCDate() === 1 && t.getUTCDay() !== 1), `a 1st that is no Monday in ${next.map((t) => t.toISOString())}`);
    assert.ok(next.some((t) => t.getUTCDay() === 1 && t.getUTCDate() !== 1), 'a Monday that is no 1st');
    assert.deepEqual(after[VOL2]!.action.args?.[0], JSON.parse(JSON.stringify(findJob(inventory, 'sp1/nas/vol2'))));

    const again = await applySchedules(client, desiredSchedules(inventory, TASK_QUEUE), { prune: true });
    assert.equal(again.unchanged.length, 3, 'the two-calendar form compares equal too');
    assert.equal(token((await describeAll([VOL2]))[VOL2]!), token(after[VOL2]!));
  });

  test('pause and unpause by dataset; apply keeps an operator\'s pause unless the inventory says paused', async () => {
    const inv = path.join(dir, 'inv.yaml');
    const inventory = requireInventory(inv);
    assert.equal(await pauseSchedule(client, inventory, 'sp1/nas/vol0', 'failover drill'), VOL0);
    let d = await client.schedule.getHandle(VOL0).describe();
    assert.deepEqual([d.state.paused, d.state.note], [true, 'failover drill']);
    assert.ok((await applySchedules(client, desiredSchedules(inventory, TASK_QUEUE), { prune: true })).unchanged.includes(VOL0));
    assert.equal((await client.schedule.getHandle(VOL0).describe()).state.paused, true, 'still paused after apply');

    assert.match(await cli('schedules', 'unpause', inv, '--dataset', 'uss1:sp1/nas/vol0'), /unpaused esxi-zfs:replicate:uss1:sp1\/nas\/vol0/);
    d = await client.schedule.getHandle(VOL0).describe();
    assert.equal(d.state.paused, false);

    // paused: true in the inventory is enforced by apply (and reported as an update)
    const pausedInv = requireInventory(file('paused.yaml', inventoryText((doc) => {
      doc.setIn([...VOL2_SCHEDULE, 'cron'], '0 0 1 * 1');
      doc.setIn([...VOL2_SCHEDULE, 'paused'], true);
    })));
    const result = await applySchedules(client, desiredSchedules(pausedInv, TASK_QUEUE), { prune: true });
    assert.deepEqual(result.updated, [VOL2]);
    assert.deepEqual(result.changes[VOL2], ['job: schedule differs from the inventory', 'paused: false -> true']);
    assert.equal((await client.schedule.getHandle(VOL2).describe()).state.paused, true);
    assert.equal((await applySchedules(client, desiredSchedules(pausedInv, TASK_QUEUE), { prune: true })).unchanged.length, 3);
    await unpauseSchedule(client, inventory, 'sp1/nas/vol2');
    await assert.rejects(pauseSchedule(client, inventory, 'sp9/nope'), /not replicated by this inventory/);
  });

  test('list (CLI) shows every schedule with next run times in its own zone', async () => {
    const listed = JSON.parse(await cli('schedules', 'list', '--json')) as {
      scheduleId: string; dataset: string; cron: string; timezone: string; paused: boolean; nextRuns: string[]; nextRunsLocal: string[];
    }[];
    assert.deepEqual(listed.map((s) => s.scheduleId).sort(), [VOL0, VOL1, VOL2].sort(), 'not someone-else:nightly');
    const vol0 = listed.find((s) => s.scheduleId === VOL0)!;
    assert.equal(vol0.dataset, 'sp1/nas/vol0');
    assert.equal(vol0.cron, '59 23 * * *');
    assert.equal(vol0.timezone, 'America/Chicago');
    assert.ok(vol0.nextRuns.length >= 3);
    for (const [i, iso] of vol0.nextRuns.entries()) {
      const t = new Date(iso);
      assert.ok([4, 5].includes(t.getUTCHours()) && t.getUTCMinutes() === 59, `23:59 in Chicago is 04:59 or 05:59 UTC: ${iso}`);
      assert.match(vol0.nextRunsLocal[i]!, /^\d{4}-\d\d-\d\d 23:59 C[SD]T$/);
      assert.equal(vol0.nextRunsLocal[i], formatInZone(t, 'America/Chicago'));
    }
    const table = await cli('schedules', 'list');
    assert.match(table, /uss1:sp1\/nas\/vol0\s+59 23 \* \* \* America\/Chicago\s+no\s+\d{4}-\d\d-\d\d 23:59 C[SD]T/);
    assert.match(table, /uss1:sp1\/nas\/vol2\s+0 0 1 \* \* \| 0 0 \* \* 1 UTC/);
  });

  test('a dataset removed from the inventory loses its schedule; others are untouched', async () => {
    const inv = file('inv.yaml', inventoryText((doc) => doc.deleteIn(['hosts', 1, 'storageVm', 'datasets', 1])));
    const result = JSON.parse(await cli('schedules', 'apply', inv, '--json'));
    assert.deepEqual(result.deleted, [VOL2]);
    assert.deepEqual([...result.unchanged].sort(), [VOL0, VOL1].sort());
    await assert.rejects(client.schedule.getHandle(VOL2).describe(), /not found/i);
    assert.equal((await client.schedule.getHandle('someone-else:nightly').describe()).state.paused, true, 'foreign schedule kept');
    assert.deepEqual((await listSchedules(client)).map((s) => s.scheduleId).sort(), [VOL0, VOL1].sort());
  });

  test('a schedule fires on its own: scheduledReplication starts the replicateDataset child; overlaps are skipped', async () => {
    const inventory = requireInventory(path.join(dir, 'inv.yaml'));
    const job = findJob(inventory, 'sp1/nas/vol0');
    const childId = replicationWorkflowId(job);
    const vol0 = desiredSchedules(inventory, TASK_QUEUE).find((d) => d.scheduleId === VOL0)!;
    const fireId = 'esxi-zfs-test:every-2s';

    Runtime.install({ logger: new DefaultLogger('WARN') });
    const t0 = Date.now();
    const nativeConnection = await NativeConnection.connect({ address: server!.address });
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: server!.namespace,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('../../workflows'),
      // no activities: the child replicateDataset waits for its first one
    });
    console.log(`worker bundle ready in ${Date.now() - t0} ms`);
    const running = worker.run();
    try {
      // The real action of the dataset's schedule, with a spec that fires every 2 s.
      await client.schedule.create({ ...vol0.options, scheduleId: fireId, spec: { intervals: [{ every: '2s' }] } });
      const t1 = Date.now();
      const parent = await eventually('the schedule to start scheduledReplication', async () => {
        for await (const info of client.workflow.list({ query: `WorkflowType = 'scheduledReplication' AND TemporalScheduledById = '${fireId}'` })) return info;
        return undefined;
      });
      console.log(`schedule fired after ${Date.now() - t1} ms: ${parent.workflowId}`);
      assert.ok(parent.workflowId.startsWith('replicate:uss1:sp1/nas/vol0:scheduled-'), parent.workflowId);
      assert.equal(parent.typedSearchAttributes.get(SearchAttribute.dataset), 'sp1/nas/vol0');
      assert.equal(parent.typedSearchAttributes.get(SearchAttribute.runbook), 'scheduled-replication');

      const child = await eventually('the replicateDataset child', async () => {
        try {
          return await client.workflow.getHandle(childId).describe();
        } catch {
          return undefined;
        }
      });
      assert.equal(child.type, 'replicateDataset');
      assert.equal(child.status.name, 'RUNNING');
      assert.equal(child.parentExecution?.workflowId, parent.workflowId);
      assert.equal(child.typedSearchAttributes.get(SearchAttribute.dataset), 'sp1/nas/vol0');
      assert.equal(child.typedSearchAttributes.get(SearchAttribute.host), 'uss1');
      assert.equal(child.typedSearchAttributes.get(SearchAttribute.runbook), 'replicate');

      // While the first run goes on, the next firings are skipped (overlap SKIP)...
      const skipped = await eventually('an overlapping firing to be skipped', async () => {
        const d = await client.schedule.getHandle(fireId).describe();
        return d.info.numActionsSkippedOverlap >= 1 ? d : undefined;
      });
      assert.equal(skipped.info.numActionsTaken, 1);
      // ...and a second parent forced through (ALLOW_ALL) ends at once as skipped: one run per dataset.
      await client.schedule.getHandle(fireId).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      const second = await eventually('the forced second scheduledReplication', async () => {
        const d = await client.schedule.getHandle(fireId).describe();
        const other = d.info.recentActions.find((a) => a.action.workflow.workflowId !== parent.workflowId);
        return other?.action.workflow;
      });
      const secondResult = await client.workflow.getHandle(second.workflowId, second.firstExecutionRunId).result();
      assert.deepEqual(secondResult, { skipped: `a run of sp1/nas/vol0 is already in progress: ${childId}` });
      await recordHistory(client, second.workflowId, 'scheduledReplication-skipped', second.firstExecutionRunId);

      // status sees the run in progress and the schedule's next run
      const status = await replicationStatus(client, inventory);
      const row = status.find((r) => r.dataset === 'sp1/nas/vol0')!;
      assert.equal(row.running?.workflowId, childId);
      assert.ok(row.schedule?.nextRun, 'next run of the inventory schedule');
      // Temporal only: the example's hosts are not there to inspect.
      const cliStatus = await statusCli(path.join(dir, 'inv.yaml'), '--json', '--replication-only');
      const rows = (JSON.parse(cliStatus.stdout) as { replication: { dataset: string; inProgress: boolean }[] }).replication;
      assert.equal(rows.find((r) => r.dataset === 'sp1/nas/vol0')!.inProgress, true);

      // Terminating the scheduled parent abandons (does not kill) the replication run.
      await client.schedule.getHandle(fireId).delete();
      await client.workflow.getHandle(parent.workflowId).terminate('test: parent terminated');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await client.workflow.getHandle(childId).describe()).status.name, 'RUNNING', 'child abandoned, still running');
      await client.workflow.getHandle(childId).terminate('test done');

      const afterwards = await eventually('status to show the terminated run', async () => {
        const rows = await replicationStatus(client, inventory);
        const r = rows.find((x) => x.dataset === 'sp1/nas/vol0')!;
        return r.last && !r.running ? r : undefined;
      });
      assert.equal(afterwards.last!.status, 'TERMINATED');
      assert.match(afterwards.last!.failure ?? '', /test done|terminated/i);
      const table = await statusCli();
      assert.match(table.stdout, /uss1:sp1\/nas\/vol0\s+uss2:sp2\/nas\/vol0\s+.*ago\s+terminated/);
      assert.match(table.stdout, /problems:\n {2}uss1:sp1\/nas\/vol0: last replication terminated/);
      assert.equal(table.code, 1, 'a terminated replication is not healthy');
    } finally {
      for await (const info of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
        await client.workflow.getHandle(info.workflowId, info.runId).terminate('test cleanup').catch(() => undefined);
      }
      await client.schedule.getHandle(fireId).delete().catch(() => undefined);
      worker.shutdown();
      await running;
      await nativeConnection.close();
    }
  });
});
