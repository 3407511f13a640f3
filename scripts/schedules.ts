/**
 * Replication Schedules: one Temporal Schedule per replicated dataset, made from the inventory.
 * This replaces the runbook's crontab line `59 23 * * * ./zfs-daily-rpl.sh` and two of its traps:
 * the schedule carries an explicit time zone (cron ran in whatever TZ the daemon had), and runs
 * never overlap (overlap policy SKIP, plus one workflow id per dataset in scheduledReplication).
 *
 * `applySchedules` makes the namespace match the inventory: it creates what is missing, updates
 * what differs, leaves equal schedules untouched (re-applying changes nothing on the server), and
 * deletes every `esxi-zfs:replicate:*` schedule the inventory no longer asks for. So ONE TEMPORAL
 * NAMESPACE HOLDS ONE INVENTORY'S SCHEDULES: applying a second inventory in the same namespace
 * deletes the first one's. Give each cluster its own namespace (TEMPORAL_NAMESPACE).
 *
 * Comparing with the server: `describe()` does not return the cron string that was sent. The
 * server compiles `cronExpressions` into structured calendars (ranges of second, minute, hour,
 * day of month, month, year, day of week; Sunday 7 becomes 0, `0,7` becomes two ranges) and drops
 * the cron text. So both sides are reduced to the sets of values each calendar field matches and
 * those are compared; see `calendarFieldSets`.
 *
 * Crontab vs Temporal: when both day-of-month and day-of-week are restricted, crontab runs when
 * EITHER matches ("0 0 1 * 1": the 1st and every Monday), a Temporal calendar when BOTH match (a
 * Monday the 1st). `temporalCronExpressions` keeps crontab's meaning by sending two expressions.
 * Temporal rejects crontab's `L`, `W`, `#` and `?`, which cron-parser (the inventory check) accepts.
 */
import {
  DAYS_OF_WEEK,
  MONTHS,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type CalendarSpecDescription,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { extractWorkflowType, type SearchAttributePair, type TypedSearchAttributes, type Workflow } from '@temporalio/common';
import { CronExpressionParser } from 'cron-parser';
import { durationMs, findJob, replicationJobs } from '../inventory/jobs';
import { replicationScheduleId, replicationSummary, replicationWorkflowId, type ReplicationJob } from '../core/replication/shared';
import type { Inventory } from '../inventory/schema';
import { TASK_QUEUE } from '../workers/config';
import { Runbook, runSearchAttributes } from '../core/search-attributes';
import { scheduledReplication } from '../workflows';

/** Every schedule this product manages has an id starting with this. */
export const SCHEDULE_ID_PREFIX = 'esxi-zfs:replicate:';
export const DEFAULT_CATCHUP_WINDOW = '1h';
export const MANAGED_BY = { managedBy: 'esxi-zfs' } as const;


export type ReplicationScheduleOptions = ScheduleOptions<ScheduleOptionsStartWorkflowAction<Workflow>>;

export interface DesiredSchedule {
  scheduleId: string;
  job: ReplicationJob;
  /** The inventory's cron and zone, as written. */
  cron: string;
  timezone: string;
  /**
   * The inventory's `paused`: true or false is enforced by apply; absent leaves the pause an
   * operator set (`schedules pause`, failover) alone. New schedules start unpaused then.
   */
  paused: boolean | undefined;
  /** What `client.schedule.create` gets. */
  options: ReplicationScheduleOptions;
}

// ---------------------------------------------------------------------------------------------
// cron

/** Comma lists of `*`, numbers or three-letter names, ranges and steps: what both crontab and Temporal read. */
const CRON_ITEM = '(?:\\*|[0-9]+|[A-Za-z]{3})(?:-(?:[0-9]+|[A-Za-z]{3}))?(?:/[0-9]+)?';
const CRON_FIELD = new RegExp(`^${CRON_ITEM}(?:,${CRON_ITEM})*$`);

/**
 * The inventory's five-field crontab expression as Temporal cron expressions with crontab's
 * meaning: one expression, or two when both day-of-month and day-of-week are restricted (crontab
 * ORs them; a Temporal calendar ANDs them). A field counts as restricted unless it starts with `*`,
 * as in Vixie cron. Throws on syntax Temporal does not accept.
 */
export function temporalCronExpressions(cron: string): string[] {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`cron '${cron}' must have five fields: minute hour day-of-month month day-of-week`);
  for (const field of fields) {
    if (!CRON_FIELD.test(field)) {
      throw new Error(`cron '${cron}': '${field}' uses syntax Temporal schedules do not accept (L, W, # and ? are crontab extensions)`);
    }
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  if (!dayOfMonth.startsWith('*') && !dayOfWeek.startsWith('*')) {
    return [`${minute} ${hour} ${dayOfMonth} ${month} *`, `${minute} ${hour} * ${month} ${dayOfWeek}`];
  }
  return [fields.join(' ')];
}

/** The values each field of a calendar matches; `year: '*'` is every year. Comparable by JSON. */
export interface CalendarFieldSets {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: number[];
  month: number[];
  year: number[] | '*';
  dayOfWeek: number[];
}

const sortedUnique = (values: Iterable<number>) => [...new Set(values)].sort((a, b) => a - b);

/** What a (Temporal-compatible, five-field) cron expression matches, by cron-parser. */
export function cronFieldSets(expression: string): CalendarFieldSets {
  const { fields } = CronExpressionParser.parse(expression, { strict: false });
  const numbers = (values: readonly unknown[], what: string) =>
    values.map((v) => {
      if (typeof v !== 'number') throw new Error(`cron '${expression}': ${what} value ${String(v)} is not supported by Temporal`);
      return v;
    });
  return {
    second: sortedUnique(numbers(fields.second.values, 'second')),
    minute: sortedUnique(numbers(fields.minute.values, 'minute')),
    hour: sortedUnique(numbers(fields.hour.values, 'hour')),
    dayOfMonth: sortedUnique(numbers(fields.dayOfMonth.values, 'day-of-month')),
    month: sortedUnique(numbers(fields.month.values, 'month')),
    year: '*',
    dayOfWeek: sortedUnique(numbers(fields.dayOfWeek.values, 'day-of-week').map((d) => d % 7)),
  };
}

/** What a calendar returned by `describe()` matches (ranges expanded, names to numbers). */
export function calendarFieldSets(calendar: CalendarSpecDescription): CalendarFieldSets {
  const expand = <T>(ranges: { start: T; end: T; step: number }[], toNumber: (v: T) => number) => {
    const out: number[] = [];
    for (const range of ranges) {
      const start = toNumber(range.start);
      const end = Math.max(start, toNumber(range.end));
      const step = range.step > 0 ? range.step : 1;
      for (let v = start; v <= end; v += step) out.push(v);
    }
    return sortedUnique(out);
  };
  const id = (v: number) => v;
  return {
    second: expand(calendar.second, id),
    minute: expand(calendar.minute, id),
    hour: expand(calendar.hour, id),
    dayOfMonth: expand(calendar.dayOfMonth, id),
    month: expand(calendar.month, (m) => MONTHS.indexOf(m) + 1),
    year: calendar.year.length === 0 ? '*' : expand(calendar.year, id),
    dayOfWeek: expand(calendar.dayOfWeek, (d) => DAYS_OF_WEEK.indexOf(d) % 7),
  };
}

function fieldText(values: number[] | '*', min: number, max: number): string {
  if (values === '*') return '*';
  if (values.length === max - min + 1 && values[0] === min && values[values.length - 1] === max) return '*';
  // Compress runs of consecutive values: 1,2,3,5 -> 1-3,5
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${values[i]}-${values[j]}` : values.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return parts.join(',');
}

/** A calendar as a crontab-like line, for display ("59 23 * * *"; seconds and years when used). */
export function calendarToCron(calendar: CalendarSpecDescription): string {
  const sets = calendarFieldSets(calendar);
  const main = [
    fieldText(sets.minute, 0, 59),
    fieldText(sets.hour, 0, 23),
    fieldText(sets.dayOfMonth, 1, 31),
    fieldText(sets.month, 1, 12),
    fieldText(sets.dayOfWeek, 0, 6),
  ].join(' ');
  const second = sets.second.length === 1 && sets.second[0] === 0 ? '' : `${fieldText(sets.second, 0, 59)} `;
  const year = sets.year === '*' ? '' : ` ${fieldText(sets.year, 0, 9999)}`;
  return `${second}${main}${year}`;
}

// ---------------------------------------------------------------------------------------------
// desired state

/** A schedule and the runs it starts carry the dataset and its storage VM: the UI filters both by them. */
const scheduledSearchAttributes = (job: ReplicationJob): SearchAttributePair[] =>
  runSearchAttributes(Runbook.scheduledReplication, { host: job.source.host.name, dataset: job.source.dataset });

/** The schedules the inventory asks for: one per replication job that has a schedule. */
export function desiredSchedules(inventory: Inventory): DesiredSchedule[] {
  return replicationJobs(inventory).flatMap((job): DesiredSchedule[] => {
    const schedule = job.schedule;
    if (!schedule) return [];
    const scheduleId = replicationScheduleId(job);
    let cronExpressions: string[];
    try {
      cronExpressions = temporalCronExpressions(schedule.cron);
    } catch (error) {
      throw new Error(`schedule of ${job.source.host.name}:${job.source.dataset}: ${(error as Error).message}`, { cause: error });
    }
    return [{
      scheduleId,
      job,
      cron: schedule.cron,
      timezone: schedule.timezone,
      paused: schedule.paused,
      options: {
        scheduleId,
        spec: { cronExpressions, timezone: schedule.timezone },
        action: {
          type: 'startWorkflow',
          workflowType: scheduledReplication,
          args: [job],
          taskQueue: TASK_QUEUE,
          workflowId: `${replicationWorkflowId(job)}:scheduled`,
          typedSearchAttributes: scheduledSearchAttributes(job),
          staticSummary: replicationSummary(job),
        },
        typedSearchAttributes: scheduledSearchAttributes(job),
        policies: {
          overlap: ScheduleOverlapPolicy.SKIP,
          catchupWindow: durationMs(schedule.catchupWindow ?? DEFAULT_CATCHUP_WINDOW),
          pauseOnFailure: false,
        },
        memo: { ...MANAGED_BY },
        state: { paused: schedule.paused ?? false },
      },
    }];
  });
}

// ---------------------------------------------------------------------------------------------
// comparing with the server

/** JSON with sorted keys and no undefined: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

const sameSet = (a: string[], b: string[]) => canonicalJson([...a].sort()) === canonicalJson([...b].sort());

type Pairs = SearchAttributePair[] | TypedSearchAttributes | undefined;

function pairsText(pairs: Pairs): string[] {
  const list = pairs === undefined ? [] : Array.isArray(pairs) ? pairs : pairs.getAll();
  return list.map((p) => canonicalJson({ name: p.key.name, type: p.key.type, value: p.value }));
}

/**
 * What differs between the schedule on the server and the desired one (empty: nothing to update).
 * The pause state is not compared here (see DesiredSchedule.paused).
 */
export function scheduleDifferences(desired: DesiredSchedule, actual: ScheduleDescription): string[] {
  const out: string[] = [];
  const want = desired.options;

  // spec: compiled calendars, compared by the sets of values they match
  const wantCalendars = (want.spec.cronExpressions ?? []).map((c) => canonicalJson(cronFieldSets(c)));
  const haveCalendars = (actual.spec.calendars ?? []).map((c) => canonicalJson(calendarFieldSets(c)));
  const haveCron = (actual.spec.calendars ?? []).map(calendarToCron).join(' | ') || 'none';
  if (!sameSet(wantCalendars, haveCalendars)) out.push(`cron: ${haveCron} -> ${(want.spec.cronExpressions ?? []).join(' | ')}`);
  if ((actual.spec.timezone ?? '') !== (want.spec.timezone ?? '')) out.push(`timezone: ${actual.spec.timezone || 'none'} -> ${want.spec.timezone}`);
  if ((actual.spec.intervals ?? []).length > 0) out.push('intervals: set on the server, not in the inventory');
  if ((actual.spec.skip ?? []).length > 0) out.push('skip calendars: set on the server, not in the inventory');
  if (actual.spec.startAt || actual.spec.endAt) out.push('start/end time: set on the server, not in the inventory');
  if (actual.spec.jitter) out.push('jitter: set on the server, not in the inventory');

  // action
  const wa = want.action;
  const aa = actual.action;
  if (aa.workflowType !== extractWorkflowType(wa.workflowType)) out.push(`workflow type: ${aa.workflowType} -> ${extractWorkflowType(wa.workflowType)}`);
  if (aa.workflowId !== wa.workflowId) out.push(`workflow id: ${aa.workflowId} -> ${wa.workflowId}`);
  if (aa.taskQueue !== wa.taskQueue) out.push(`task queue: ${aa.taskQueue} -> ${wa.taskQueue}`);
  if ((aa.staticSummary ?? '') !== (wa.staticSummary ?? '')) out.push(`summary: ${aa.staticSummary ?? 'none'} -> ${wa.staticSummary}`);
  const wantArgs = JSON.parse(JSON.stringify(wa.args ?? [])) as unknown[];
  if (canonicalJson(aa.args) !== canonicalJson(wantArgs)) {
    const have = (aa.args?.[0] ?? {}) as Record<string, unknown>;
    const want = (wantArgs[0] ?? {}) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(have), ...Object.keys(want)])].filter((k) => canonicalJson(have[k]) !== canonicalJson(want[k]));
    out.push(`job: ${keys.sort().join(', ') || 'arguments'} differ${keys.length === 1 ? 's' : ''} from the inventory`);
  }
  const wantPairs = pairsText(wa.typedSearchAttributes);
  const havePairs = pairsText(aa.typedSearchAttributes);
  if (!sameSet(wantPairs, havePairs)) out.push('search attributes differ');
  if (!sameSet(pairsText(want.typedSearchAttributes), pairsText(actual.typedSearchAttributes))) out.push("the schedule's search attributes differ");
  if (aa.retry || aa.workflowExecutionTimeout || aa.workflowRunTimeout || aa.workflowTaskTimeout) {
    out.push('retry/timeouts: set on the server, not in the inventory');
  }

  // policies
  const wp = want.policies!;
  if (actual.policies.overlap !== wp.overlap) out.push(`overlap: ${actual.policies.overlap} -> ${wp.overlap}`);
  if (actual.policies.catchupWindow !== wp.catchupWindow) out.push(`catchup window: ${actual.policies.catchupWindow} ms -> ${String(wp.catchupWindow)} ms`);
  if (actual.policies.pauseOnFailure !== wp.pauseOnFailure) out.push(`pause on failure: ${actual.policies.pauseOnFailure} -> ${wp.pauseOnFailure}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Temporal calls

export interface ApplyResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
  /** Why each updated schedule was updated. */
  changes: Record<string, string[]>;
}

/** Ids of the schedules this product manages in the client's namespace (listing is eventually consistent). */
export async function managedScheduleIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) ids.push(summary.scheduleId);
  }
  return ids.sort();
}

async function describeOrUndefined(client: Client, scheduleId: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Makes the namespace's replication schedules match the inventory (see the module comment: one
 * namespace, one inventory). Equal schedules are not touched at all.
 */
export async function applySchedules(client: Client, inventory: Inventory): Promise<ApplyResult> {
  const desired = desiredSchedules(inventory);
  const result: ApplyResult = { created: [], updated: [], unchanged: [], deleted: [], changes: {} };
  const wanted = new Set(desired.map((d) => d.scheduleId));
  const existing = await managedScheduleIds(client);

  for (const want of desired) {
    const handle = client.schedule.getHandle(want.scheduleId);
    let actual = await describeOrUndefined(client, want.scheduleId);
    if (!actual) {
      try {
        await client.schedule.create(want.options);
        result.created.push(want.scheduleId);
        continue;
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        actual = await handle.describe(); // created concurrently: compare with it
      }
    }
    const changes = scheduleDifferences(want, actual);
    const pauseTo = want.paused !== undefined && want.paused !== actual.state.paused ? want.paused : undefined;
    if (changes.length > 0) {
      await handle.update((previous) => ({
        spec: want.options.spec,
        action: want.options.action,
        policies: want.options.policies,
        state: {
          paused: pauseTo ?? previous.state.paused,
          note: pauseTo === undefined ? previous.state.note : `esxi-zfs schedules apply: the inventory says paused: ${pauseTo}`,
          remainingActions: previous.state.remainingActions,
        },
      }));
    } else if (pauseTo === true) {
      await handle.pause('esxi-zfs schedules apply: the inventory says paused: true');
    } else if (pauseTo === false) {
      await handle.unpause('esxi-zfs schedules apply: the inventory says paused: false');
    }
    if (pauseTo !== undefined) changes.push(`paused: ${actual.state.paused} -> ${pauseTo}`);
    if (changes.length > 0) {
      result.updated.push(want.scheduleId);
      result.changes[want.scheduleId] = changes;
    } else {
      result.unchanged.push(want.scheduleId);
    }
  }

  for (const id of existing) {
    if (wanted.has(id)) continue;
    try {
      await client.schedule.getHandle(id).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error; // deleted meanwhile: fine
    }
    result.deleted.push(id);
  }
  return result;
}

export interface ScheduleListing {
  scheduleId: string;
  host: string;
  dataset: string;
  /** `VM:dataset` the schedule replicates to (from its job). */
  target?: string;
  /** The server's calendars as crontab-like text ("59 23 * * *"), several joined by " | ". */
  cron: string;
  timezone: string;
  paused: boolean;
  note?: string;
  nextRuns: Date[];
  /** The newest action the schedule took: the scheduledReplication run it started. */
  lastAction?: { scheduledAt: Date; takenAt: Date; workflowId: string; runId: string };
  runningWorkflows: { workflowId: string; runId: string }[];
  actionsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
  createdAt: Date;
  lastUpdatedAt?: Date;
}

function jobOf(description: ScheduleDescription): ReplicationJob | undefined {
  const job = description.action.args?.[0] as Partial<ReplicationJob> | undefined;
  return job?.source?.host?.name && job.source.dataset ? (job as ReplicationJob) : undefined;
}

/** `esxi-zfs:replicate:<vm>:<dataset>` → vm, dataset. */
export function parseScheduleId(scheduleId: string): { host: string; dataset: string } | undefined {
  if (!scheduleId.startsWith(SCHEDULE_ID_PREFIX)) return undefined;
  const rest = scheduleId.slice(SCHEDULE_ID_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon <= 0) return undefined;
  return { host: rest.slice(0, colon), dataset: rest.slice(colon + 1) };
}

export function scheduleListing(description: ScheduleDescription): ScheduleListing {
  const job = jobOf(description);
  const fromId = parseScheduleId(description.scheduleId);
  const recent = description.info.recentActions;
  const last = recent.length > 0 ? recent.reduce((a, b) => (b.takenAt > a.takenAt ? b : a)) : undefined;
  return {
    scheduleId: description.scheduleId,
    host: job?.source.host.name ?? fromId?.host ?? '?',
    dataset: job?.source.dataset ?? fromId?.dataset ?? '?',
    target: job ? `${job.target.host.name}:${job.target.dataset}` : undefined,
    cron: (description.spec.calendars ?? []).map(calendarToCron).join(' | ') ||
      (description.spec.intervals ?? []).map((i) => `every ${i.every} ms`).join(' | '),
    timezone: description.spec.timezone || 'UTC',
    paused: description.state.paused,
    note: description.state.note || undefined,
    nextRuns: description.info.nextActionTimes,
    lastAction: last && {
      scheduledAt: last.scheduledAt,
      takenAt: last.takenAt,
      workflowId: last.action.workflow.workflowId,
      runId: last.action.workflow.firstExecutionRunId,
    },
    runningWorkflows: description.info.runningActions.map((a) => ({ workflowId: a.workflow.workflowId, runId: a.workflow.firstExecutionRunId })),
    actionsTaken: description.info.numActionsTaken,
    skippedOverlap: description.info.numActionsSkippedOverlap,
    missedCatchupWindow: description.info.numActionsMissedCatchupWindow,
    createdAt: description.info.createdAt,
    lastUpdatedAt: description.info.lastUpdatedAt,
  };
}

/** Every replication schedule in the namespace, by id. */
export async function listSchedules(client: Client): Promise<ScheduleListing[]> {
  const ids = await managedScheduleIds(client);
  const described = await Promise.all(ids.map((id) => describeOrUndefined(client, id)));
  return described.filter((d): d is ScheduleDescription => d !== undefined).map(scheduleListing);
}

/** The schedule id of a dataset (`sp1/nas/vol0` or `uss1:sp1/nas/vol0`) of the inventory. */
export function scheduleIdFor(inventory: Inventory, dataset: string): string {
  return replicationScheduleId(findJob(inventory, dataset));
}

async function withSchedule<T>(inventory: Inventory, dataset: string, fn: (id: string) => Promise<T>): Promise<T> {
  const id = scheduleIdFor(inventory, dataset);
  try {
    return await fn(id);
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) {
      throw new Error(`no schedule ${id} in this namespace: run \`esxi-zfs schedules apply\` first (does the dataset have a schedule in the inventory?)`, { cause: error });
    }
    throw error;
  }
}

export function pauseSchedule(client: Client, inventory: Inventory, dataset: string, note?: string): Promise<string> {
  return withSchedule(inventory, dataset, async (id) => {
    await client.schedule.getHandle(id).pause(note ?? 'paused with esxi-zfs schedules pause');
    return id;
  });
}

export function unpauseSchedule(client: Client, inventory: Inventory, dataset: string, note?: string): Promise<string> {
  return withSchedule(inventory, dataset, async (id) => {
    await client.schedule.getHandle(id).unpause(note ?? 'unpaused with esxi-zfs schedules unpause');
    return id;
  });
}

/**
 * Takes the schedule's action now (also when paused), with overlap SKIP: nothing new starts while
 * the schedule's previous run is still going; a run started outside the schedule (esxi-zfs
 * replicate) makes the new run end at once as skipped.
 */
export function triggerSchedule(client: Client, inventory: Inventory, dataset: string): Promise<string> {
  return withSchedule(inventory, dataset, async (id) => {
    await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.SKIP);
    return id;
  });
}

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleListing | undefined> {
  const description = await describeOrUndefined(client, scheduleId);
  return description && scheduleListing(description);
}
