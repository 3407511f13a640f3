/** The schedules as runbooks manage them: the worker's own Temporal client, the worker's task queue. */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { ReplicationJob } from '../../core/replication/shared';
import { applySchedules, type ApplyResult } from './apply';
import { desiredSchedule } from './desired';

export function createScheduleActivities(deps: { temporal: Client }) {
  return {
    /**
     * Creates or updates the schedule of each job (a job without one is skipped); other schedules
     * are never deleted here: a runbook knows only the hosts it provisions.
     */
    async applyReplicationSchedules(jobs: ReplicationJob[]): Promise<ApplyResult> {
      const taskQueue = Context.current().info.taskQueue;
      const desired = jobs.flatMap((job) => desiredSchedule(job, taskQueue) ?? []);
      return applySchedules(deps.temporal, desired, { prune: false });
    },
  };
}
