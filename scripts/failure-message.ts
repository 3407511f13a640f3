/** What an operator reads of a failed run: the root failure, and which step failed where. */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ChildWorkflowFailure } from '@temporalio/common';

export function failureMessage(error: unknown): string {
  const failure = error instanceof WorkflowFailedError ? error.cause : error;
  const root = failure instanceof Error ? rootMessage(failure) : String(failure);
  const step = failedStep(failure);
  return step ? `${step}: ${root}` : root;
}

/**
 * The root cause's message, or the message of the failure above it when that one already quotes it:
 * `ssh uss2 (10.0.0.2:22): cannot connect: connect ECONNREFUSED 10.0.0.2:22` says which host, its
 * cause `connect ECONNREFUSED 10.0.0.2:22` does not.
 */
function rootMessage(failure: Error): string {
  let current = failure;
  while (current.cause instanceof Error && !(current.cause.message && current.message.includes(current.cause.message))) current = current.cause;
  return current.message;
}

/** `sendSnapshot (target uss2:sp2/nas/vol0)`: the activity or child workflow the failure came from. */
function failedStep(failure: unknown): string | undefined {
  for (let f = failure; f instanceof Error; f = f.cause) {
    if (f instanceof ActivityFailure) return f.activityType;
    if (f instanceof ChildWorkflowFailure) return `${f.execution.workflowId}`;
  }
  return undefined;
}
