/** The running activity's context, for code that also runs outside one (unit tests, scripts). */
import { Context } from '@temporalio/activity';
import type { Logger } from '@temporalio/common';

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // not inside an activity
  }
}

/**
 * The activity's logger: the worker's, with workflowId, runId, activityId, activityType and
 * taskQueue attached to every line. Undefined outside an activity.
 */
export function stepLog(): Logger | undefined {
  return activityContext()?.log;
}
