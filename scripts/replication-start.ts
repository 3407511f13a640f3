/** Starting a replication run the way every starter must: its fixed workflow id and search attributes. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { replicationSearchAttributes, replicationSummary, replicationWorkflowId, type ReplicationJob } from '../core/replication/shared';
import { TASK_QUEUE } from '../workers/config';
import { replicateDataset } from '../workflows';

/** Starts replicateDataset, or returns the run already in flight for this dataset (one at a time). */
export async function startReplication(client: Client, job: ReplicationJob): Promise<{ handle: WorkflowHandle; started: boolean }> {
  const workflowId = replicationWorkflowId(job);
  try {
    const handle = await client.workflow.start(replicateDataset, {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [job],
      typedSearchAttributes: replicationSearchAttributes(job),
      staticSummary: replicationSummary(job),
    });
    return { handle, started: true };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { handle: client.workflow.getHandle(workflowId), started: false };
    throw error;
  }
}
