/**
 * scheduledReplication: what a replication Schedule starts (the runbook's `59 23 * * *
 * ./zfs-daily-rpl.sh`, one Schedule per dataset). It starts `replicateDataset` as a child under the
 * dataset's fixed workflow id, so a scheduled run and a manual `esxi-zfs replicate` of the same
 * dataset can never run at once: whichever comes second is skipped, with a reason, not failed.
 *
 * Parent close policy ABANDON: terminating this thin parent (an operator cleaning up, a schedule
 * deleted and its workflows terminated) must not kill a `zfs send | zfs recv` half way with holds
 * taken; the child runs to its own clean end, and while it runs the next firing is skipped because
 * the id is taken. Cancelling the parent still cancels the child (the default cancellation type
 * WAIT_CANCELLATION_COMPLETED), which is the clean way to stop a run.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, ParentClosePolicy } from '@temporalio/workflow';
import { replicationSearchAttributes } from '../core/replication/shared';
import { replicateDataset } from './replicate-dataset';
import { replicationSummary, replicationWorkflowId, type ReplicationJob, type ReplicationResult } from '../core/replication/shared';

export type ScheduledReplicationResult = ReplicationResult | { skipped: string };

export async function scheduledReplication(job: ReplicationJob): Promise<ScheduledReplicationResult> {
  const workflowId = replicationWorkflowId(job);
  try {
    return await executeChild(replicateDataset, {
      workflowId,
      args: [job],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: replicationSearchAttributes(job),
      staticSummary: replicationSummary(job),
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      return { skipped: `a run of ${job.source.dataset} is already in progress: ${error.workflowId}` };
    }
    throw error;
  }
}
