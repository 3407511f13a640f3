import { proxyActivities } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../core/failures';
import type { createCloneActivities, CloneReplicaInput, CloneReplicaResult } from '../activities/replication/clone';

const { cloneNewestReplicaSnapshot } = proxyActivities<ReturnType<typeof createCloneActivities>>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE.clone] },
});

/** The runbook's "clone before testing a replica": a writable clone, the replica stream untouched. */
export async function cloneReplica(input: CloneReplicaInput): Promise<CloneReplicaResult> {
  return cloneNewestReplicaSnapshot(input);
}
