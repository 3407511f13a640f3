/**
 * Replication Schedules: one Temporal Schedule per replicated dataset, made from the inventory.
 * This replaces the runbook's crontab line `59 23 * * * ./zfs-daily-rpl.sh` and two of its traps:
 * the schedule carries an explicit time zone (cron ran in whatever TZ the daemon had), and runs
 * never overlap (overlap policy SKIP, plus one workflow id per dataset in scheduledReplication).
 *
 * This module says what the inventory asks for; apply.ts makes the server match it.
 */
import { ScheduleOverlapPolicy, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { SearchAttributePair, Workflow } from '@temporalio/common';
import { replicationJobs } from '../../inventory/jobs';
import { durationMs } from '../../inventory/duration';
import { replicationScheduleId, replicationSummary, replicationWorkflowId, type ReplicationJob } from '../../core/replication/shared';
import type { Inventory } from '../../inventory/schema';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import { temporalCronExpressions } from './crontab';

/** Every schedule this product manages has an id starting with this. */
export const SCHEDULE_ID_PREFIX = 'esxi-zfs:replicate:';
/** How late a missed run may still start (the inventory's `catchupWindow` overrides it). */
const DEFAULT_CATCHUP_WINDOW = '1h';
/** The memo of every schedule this product creates. */
const MANAGED_BY = { managedBy: 'esxi-zfs' } as const;

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

/** A schedule and the runs it starts carry the dataset and its storage VM: the UI filters both by them. */
const scheduledSearchAttributes = (job: ReplicationJob): SearchAttributePair[] =>
  runSearchAttributes(Runbook.scheduledReplication, { host: job.source.host.name, dataset: job.source.dataset });

/** The schedules the inventory asks for: one per replication job that has a schedule, run on `taskQueue`. */
export function desiredSchedules(inventory: Inventory, taskQueue: string): DesiredSchedule[] {
  return replicationJobs(inventory).flatMap((job) => desiredSchedule(job, taskQueue) ?? []);
}

/** The schedule of one replication job (undefined: the job has none). */
export function desiredSchedule(job: ReplicationJob, taskQueue: string): DesiredSchedule | undefined {
  const schedule = job.schedule;
  if (!schedule) return undefined;
  const scheduleId = replicationScheduleId(job);
  let cronExpressions: string[];
  try {
    cronExpressions = temporalCronExpressions(schedule.cron);
  } catch (error) {
    throw new Error(`schedule of ${job.source.host.name}:${job.source.dataset}: ${(error as Error).message}`, { cause: error });
  }
  return {
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
        // by name: activities do not load workflow code (the schedules lab test starts it)
        workflowType: 'scheduledReplication',
        args: [job],
        taskQueue,
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
  };
}

