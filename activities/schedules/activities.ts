/** The schedules as runbooks manage them: the worker's own Temporal client, the worker's task queue. */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { StepReport } from '../../core/configure/shared';
import { replicationScheduleId, replicationWorkflowId, type ReplicationJob } from '../../core/replication/shared';
import { applySchedules, describeOrUndefined, type ApplyResult } from './apply';
import { desiredSchedule } from './desired';

export function createScheduleActivities(deps: { temporal: Client }) {
  const { temporal } = deps;

  /** Cancels the dataset's replication run in flight, if any (its stream stops cleanly, its holds are released). */
  async function cancelRunningReplication(job: ReplicationJob, report: StepReport): Promise<void> {
    const handle = temporal.workflow.getHandle(replicationWorkflowId(job));
    try {
      if ((await handle.describe()).status.name !== 'RUNNING') return;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return;
      throw error;
    }
    await handle.cancel();
    report.changed.push(`cancelled the replication run in flight ${handle.workflowId}`);
  }

  return {
    /**
     * Creates or updates the schedule of each job (a job without one is skipped); other schedules
     * are never deleted here: a runbook knows only the hosts it provisions.
     */
    async applyReplicationSchedules(jobs: ReplicationJob[]): Promise<ApplyResult> {
      const taskQueue = Context.current().info.taskQueue;
      const desired = jobs.flatMap((job) => desiredSchedule(job, taskQueue) ?? []);
      return applySchedules(temporal, desired, { prune: false });
    },

    /**
     * Pauses each job's schedule with `note` (already paused: found, its note kept) and cancels a run
     * of the job in flight. A job without a schedule is a warning: nothing starts it but an operator.
     */
    async pauseReplicationSchedules(jobs: ReplicationJob[], note: string): Promise<StepReport> {
      const report: StepReport = { found: [], changed: [], warnings: [] };
      for (const job of jobs) {
        const id = replicationScheduleId(job);
        const description = await describeOrUndefined(temporal, id);
        if (!description) report.warnings.push(`no schedule ${id} (schedules not applied?): nothing to pause`);
        else if (description.state.paused) report.found.push(`schedule ${id} paused (${description.state.note || 'no note'})`);
        else {
          await temporal.schedule.getHandle(id).pause(note);
          report.changed.push(`schedule ${id} paused: ${note}`);
        }
        await cancelRunningReplication(job, report);
      }
      return report;
    },

    /**
     * Unpauses each job's schedule that `note` paused; a schedule paused with another note was paused
     * by someone else for their own reason: left paused, with a warning.
     */
    async unpauseReplicationSchedules(jobs: ReplicationJob[], note: string): Promise<StepReport> {
      const report: StepReport = { found: [], changed: [], warnings: [] };
      for (const job of jobs) {
        const id = replicationScheduleId(job);
        const description = await describeOrUndefined(temporal, id);
        if (!description) report.found.push(`no schedule ${id}`);
        else if (!description.state.paused) report.found.push(`schedule ${id} runs`);
        else if (description.state.note !== note) {
          report.warnings.push(`schedule ${id} was paused by someone else (${description.state.note || 'no note'}): left paused, unpause it with esxi-zfs schedules unpause`);
        } else {
          await temporal.schedule.getHandle(id).unpause(`${note}: resumed by failback`);
          report.changed.push(`schedule ${id} unpaused`);
        }
      }
      return report;
    },
  };
}
