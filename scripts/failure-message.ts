/** What an operator reads of a failed run: the root failure, and which step failed where. */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ChildWorkflowFailure } from '@temporalio/common';

export function failureMessage(error: unknown): string {
  const failure = error instanceof WorkflowFailedError ? error.cause : error;
  const root = failure instanceof Error ? rootMessage(failure) : String(failure);
  const step = failedStep(failure);
  return step ? `${step}: ${root}` : root;
}

/** `sendSnapshot (target uss2:sp2/nas/vol0)`: the activity or child workflow the failure came from. */
function failedStep(failure: unknown): string | undefined {
  for (let f = failure; f instanceof Error; f = f.cause) {
    if (f instanceof ActivityFailure) return f.activityType;
    if (f instanceof ChildWorkflowFailure) return `${f.execution.workflowId}`;
  }
  return undefined;
}

/**
 * The root cause's message, unless a failure above it already quotes it with more: `ssh uss2
 * (10.0.0.2:22): cannot connect: connect ECONNREFUSED 10.0.0.2:22` rather than its cause's bare
 * `connect ECONNREFUSED 10.0.0.2:22`, which does not say which host refused.
 */
function rootMessage(failure: Error): string {
  let message = failure.message;
  for (let f = failure.cause; f instanceof Error; f = f.cause) {
    if (f.message && !message.includes(f.message)) message = f.message;
  }
  return message;
}
