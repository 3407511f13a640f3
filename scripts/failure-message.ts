/** What an operator reads of a failed run: the root failure, and which step failed where. */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ChildWorkflowFailure, rootCause } from '@temporalio/common';

export function failureMessage(error: unknown): string {
  const failure = error instanceof WorkflowFailedError ? error.cause : error;
  const root = failure instanceof Error ? rootCause(failure) ?? failure.message : String(failure);
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
