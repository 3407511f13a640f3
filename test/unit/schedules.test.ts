/**
 * Replication schedules without a server: what the inventory asks for, crontab → Temporal
 * expressions, and the comparison of the server's compiled calendars with a cron expression.
 * (The server's side of it runs for real in test/lab/schedules.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { CalendarSpecDescription, ScheduleDescription } from '@temporalio/client';
import { extractWorkflowType, TypedSearchAttributes, type SearchAttributePair } from '@temporalio/common';
import { requireInventory, parseInventory } from '../../inventory/load';
import { replicationJobs } from '../../inventory/jobs';
import type { Inventory } from '../../inventory/schema';
import { TASK_QUEUE } from '../../workers/config';
import { parseScheduleId } from '../../activities/schedules/control';
import { calendarFieldSets, calendarToCron, cronFieldSets, temporalCronExpressions } from '../../activities/schedules/crontab';
import { desiredSchedules, type DesiredSchedule } from '../../activities/schedules/desired';
import { scheduleDifferences } from '../../activities/schedules/differences';
import { describeOutcome, formatInZone, replicationRunsQuery } from '../../scripts/status';

const EXAMPLE = join(__dirname, '../../examples/runbook.yaml');

function exampleWith(changes: [(string | number)[], unknown][]): Inventory {
  const doc = parseDocument(readFileSync(EXAMPLE, 'utf8'));
  for (const [path, value] of changes) {
    if (value === undefined) doc.deleteIn(path);
    else doc.setIn(path, value);
  }
  const result = parseInventory(doc.toString(), 'variant.yaml');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return result.inventory;
}

test('desiredSchedules of the runbook example: two schedules at 23:59 America/Chicago, overlap SKIP', () => {
  const inventory = requireInventory(EXAMPLE);
  const desired = desiredSchedules(inventory, TASK_QUEUE);
  assert.deepEqual(desired.map((d) => d.scheduleId), [
    'esxi-zfs:replicate:uss1:sp1/nas/vol0',
    'esxi-zfs:replicate:uss2:sp2/nas/vol1',
  ]);
  const jobs = replicationJobs(inventory);
  for (const [i, d] of desired.entries()) {
    assert.equal(d.cron, '59 23 * * *');
    assert.equal(d.timezone, 'America/Chicago');
    assert.deepEqual(d.options.spec, { cronExpressions: ['59 23 * * *'], timezone: 'America/Chicago' });
    assert.deepEqual(d.options.policies, { overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: false });
    assert.deepEqual(d.options.memo, { managedBy: 'esxi-zfs' });
    assert.deepEqual(d.options.state, { paused: false });
    assert.equal(d.paused, undefined, 'the example says nothing about pausing: apply keeps an operator\'s pause');
    const action = d.options.action;
    assert.equal(extractWorkflowType(action.workflowType), 'scheduledReplication');
    assert.equal(action.staticSummary, `replicate ${jobs[i]!.source.host.name}:${jobs[i]!.source.dataset} to ${jobs[i]!.target.host.name}:${jobs[i]!.target.dataset}`);
    const scheduleAttributes = new Map((d.options.typedSearchAttributes as SearchAttributePair[]).map((p) => [p.key.name, p.value]));
    assert.deepEqual(Object.fromEntries(scheduleAttributes), { runbook: 'scheduled-replication', host: jobs[i]!.source.host.name, dataset: jobs[i]!.source.dataset }, 'the UI filters schedules by dataset and host');
    assert.equal(action.taskQueue, TASK_QUEUE);
    assert.deepEqual(action.args, [jobs[i]]);
    const { host, dataset } = parseScheduleId(d.scheduleId)!;
    assert.equal(action.workflowId, `replicate:${host}:${dataset}:scheduled`);
    assert.deepEqual(
      (action.typedSearchAttributes as { key: { name: string }; value: unknown }[]).map((p) => [p.key.name, p.value]).sort(),
      [['dataset', dataset], ['host', host], ['runbook', 'scheduled-replication']],
    );
  }
  assert.deepEqual(parseScheduleId(desired[1]!.scheduleId), { host: 'uss2', dataset: 'sp2/nas/vol1' });
});

test('per-dataset schedule, catchup window and paused come from the inventory; no schedule, no Schedule', () => {
  const vol0 = ['hosts', 1, 'storageVm', 'datasets', 0, 'replicateTo'];
  const inventory = exampleWith([
    [[...vol0, 'schedule'], { cron: '15 2 * * 1-5', timezone: 'UTC', catchupWindow: '30m', paused: true }],
    [['replication', 'schedule'], undefined],
  ]);
  const desired = desiredSchedules(inventory, TASK_QUEUE);
  assert.equal(desired.length, 1, 'vol1 has no schedule once the default is gone');
  const [d] = desired;
  assert.deepEqual(d!.options.spec, { cronExpressions: ['15 2 * * 1-5'], timezone: 'UTC' });
  assert.equal(d!.options.policies!.catchupWindow, 30 * 60_000);
  assert.equal(d!.paused, true);
  assert.deepEqual(d!.options.state, { paused: true });
});

test('crontab day-of-month OR day-of-week becomes two Temporal expressions (a Temporal calendar ANDs them)', () => {
  assert.deepEqual(temporalCronExpressions('59 23 * * *'), ['59 23 * * *']);
  assert.deepEqual(temporalCronExpressions('0 0 1 * 1'), ['0 0 1 * *', '0 0 * * 1']);
  assert.deepEqual(temporalCronExpressions('0 0 1,15 */2 mon-fri'), ['0 0 1,15 */2 *', '0 0 * */2 mon-fri']);
  // '*/2' counts as unrestricted (Vixie cron): crontab ANDs then too, one expression is right
  assert.deepEqual(temporalCronExpressions('0 0 */2 * 1'), ['0 0 */2 * 1']);
  for (const unsupported of ['0 0 L * *', '0 0 ? * 1', '0 0 * * 5#3', '0 0 15W * *']) {
    assert.throws(() => temporalCronExpressions(unsupported), /Temporal schedules do not accept/, unsupported);
  }
});

// Calendars exactly as a Temporal dev server (CLI 1.x) returned them from describe() for these crons.
const range = <T>(start: T, end: T, step = 1) => ({ start, end, step });
const SERVER_COMPILED: Record<string, CalendarSpecDescription> = {
  '59 23 * * *': {
    second: [range(0, 0)], minute: [range(59, 59)], hour: [range(23, 23)], dayOfMonth: [range(1, 31)],
    month: [range('JANUARY', 'DECEMBER')], year: [], dayOfWeek: [range('SUNDAY', 'SATURDAY')],
  },
  '*/15 1-3,5 1 jan-mar mon-fri': {
    second: [range(0, 0)], minute: [range(0, 59, 15)], hour: [range(1, 3), range(5, 5)], dayOfMonth: [range(1, 1)],
    month: [range('JANUARY', 'MARCH')], year: [], dayOfWeek: [range('MONDAY', 'FRIDAY')],
  },
  '0 12 * * 7': {
    second: [range(0, 0)], minute: [range(0, 0)], hour: [range(12, 12)], dayOfMonth: [range(1, 31)],
    month: [range('JANUARY', 'DECEMBER')], year: [], dayOfWeek: [range('SUNDAY', 'SUNDAY')],
  },
  '5 4 * * sun': {
    second: [range(0, 0)], minute: [range(5, 5)], hour: [range(4, 4)], dayOfMonth: [range(1, 31)],
    month: [range('JANUARY', 'DECEMBER')], year: [], dayOfWeek: [range('SUNDAY', 'SUNDAY')],
  },
};

test('a cron expression and the calendar the server compiles it into match the same values', () => {
  for (const [cron, calendar] of Object.entries(SERVER_COMPILED)) {
    assert.deepEqual(calendarFieldSets(calendar), cronFieldSets(cron), cron);
  }
  assert.notDeepEqual(calendarFieldSets(SERVER_COMPILED['59 23 * * *']!), cronFieldSets('59 22 * * *'));
  assert.deepEqual(cronFieldSets('0 0 * * 7'), cronFieldSets('0 0 * * 0'));
});

test('calendars read back as crontab lines for display', () => {
  assert.equal(calendarToCron(SERVER_COMPILED['59 23 * * *']!), '59 23 * * *');
  assert.equal(calendarToCron(SERVER_COMPILED['*/15 1-3,5 1 jan-mar mon-fri']!), '0,15,30,45 1-3,5 1 1-3 1-5');
  assert.equal(calendarToCron(SERVER_COMPILED['0 12 * * 7']!), '0 12 * * 0');
});

/** What describe() returns for a schedule created from `d` (as observed on the dev server). */
function described(d: DesiredSchedule, calendars: CalendarSpecDescription[]): ScheduleDescription {
  const action = d.options.action;
  return {
    scheduleId: d.scheduleId,
    spec: { calendars, intervals: [], skip: [], timezone: d.timezone },
    action: {
      type: 'startWorkflow',
      workflowId: action.workflowId!,
      workflowType: extractWorkflowType(action.workflowType),
      staticSummary: action.staticSummary,
      taskQueue: action.taskQueue,
      args: JSON.parse(JSON.stringify(action.args)),
      typedSearchAttributes: action.typedSearchAttributes,
      priority: {},
    },
    policies: { overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: false },
    state: { paused: false, note: '' },
    searchAttributes: {},
    typedSearchAttributes: new TypedSearchAttributes(d.options.typedSearchAttributes as SearchAttributePair[]),
    info: { recentActions: [], nextActionTimes: [], createdAt: new Date(), runningActions: [], numActionsMissedCatchupWindow: 0, numActionsSkippedOverlap: 0, numActionsTaken: 0 },
    raw: {},
  } as unknown as ScheduleDescription;
}

test('scheduleDifferences: none for the compiled form of the same schedule, one line per real change', () => {
  const inventory = requireInventory(EXAMPLE);
  const [d] = desiredSchedules(inventory, TASK_QUEUE);
  assert.deepEqual(scheduleDifferences(d!, described(d!, [SERVER_COMPILED['59 23 * * *']!])), []);

  const changed = desiredSchedules(exampleWith([[['replication', 'schedule', 'cron'], '5 4 * * sun']]), TASK_QUEUE)[0]!;
  const diff = scheduleDifferences(changed, described(d!, [SERVER_COMPILED['59 23 * * *']!]));
  assert.ok(diff.some((line) => line === 'cron: 59 23 * * * -> 5 4 * * sun'), diff.join('\n'));
  assert.ok(diff.includes('job: schedule differs from the inventory'), 'the job carries its schedule: args differ too');

  const otherZone = described(d!, [SERVER_COMPILED['59 23 * * *']!]);
  otherZone.spec.timezone = 'UTC';
  assert.deepEqual(scheduleDifferences(d!, otherZone), ['timezone: UTC -> America/Chicago']);
});

test('status helpers: the visibility query and times in the schedule zone', () => {
  assert.equal(
    replicationRunsQuery('uss1', "sp1/nas/vol0"),
    "WorkflowType = 'replicateDataset' AND dataset = 'sp1/nas/vol0' AND host = 'uss1'",
  );
  assert.equal(formatInZone(new Date('2026-11-26T05:59:00Z'), 'America/Chicago'), '2026-11-25 23:59 CST');
  assert.equal(formatInZone(new Date('2026-07-02T04:59:00Z'), 'America/Chicago'), '2026-07-01 23:59 CDT');
  assert.equal(
    describeOutcome({ workflowId: 'w', runId: 'r', type: 'replicateDataset', status: 'COMPLETED', startedAt: new Date(), result: {
      source: 'uss1:sp1/nas/vol0', target: 'uss2:sp2/nas/vol0', kind: 'incremental', snapshot: 's', bytes: 3 * 1024 * 1024, durationMs: 2_500,
      bytesPerSecond: 0, pruned: { source: [], target: [] }, warnings: [],
    } }),
    'incremental 3.00 MiB in 2.5 s',
  );
});
