/**
 * What the `schedules` subcommands and `status` do with the schedules on the server: list and
 * describe them (as ScheduleListing), pause, unpause and trigger one by its dataset.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import { findJob } from '../../inventory/jobs';
import { replicationScheduleId, type ReplicationJob } from '../../core/replication/shared';
import type { Inventory } from '../../inventory/schema';
import { calendarToCron } from './crontab';
import { SCHEDULE_ID_PREFIX } from './desired';
import { describeOrUndefined, managedScheduleIds } from './apply';

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

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleListing | undefined> {
  const description = await describeOrUndefined(client, scheduleId);
  return description && scheduleListing(description);
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
