/**
 * What the commands that start one run per host or VM share: start each run under its id, or
 * follow the one already running under it (starting twice attaches), print its UI link; with
 * --wait, settle every run and say which failed.
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import type { SearchAttributePair, Workflow } from '@temporalio/common';
import { TASK_QUEUE, workflowUiLink } from '../workers/config';
import { failureMessage } from './failure-message';

export interface RunStart<W extends Workflow> {
  workflowId: string;
  args: Parameters<W>;
  searchAttributes: SearchAttributePair[];
  summary: string;
}

export async function startOrFollow<W extends Workflow>(client: Client, workflow: W, runs: RunStart<W>[], quiet = false): Promise<WorkflowHandle<W>[]> {
  return Promise.all(runs.map(async (run) => {
    try {
      // The generic args cannot be narrowed to the start options' tuple type here; each caller's are checked by RunStart<W>.
      const options = { taskQueue: TASK_QUEUE, workflowId: run.workflowId, args: run.args, typedSearchAttributes: run.searchAttributes, staticSummary: run.summary };
      const handle = await client.workflow.start(workflow, options as unknown as WorkflowStartOptions<W>);
      if (!quiet) console.log(`workflow ${run.workflowId}: ${workflowUiLink(run.workflowId, handle.firstExecutionRunId)}`);
      return handle;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      if (!quiet) console.log(`workflow ${run.workflowId} is already running: following it (${workflowUiLink(run.workflowId)})`);
      return client.workflow.getHandle<W>(run.workflowId);
    }
  }));
}

/** Every run's result, or its failure as `name: message`. */
export async function settle<R>(names: string[], results: Promise<R>[]): Promise<{ results: R[]; failed: string[] }> {
  const settled = await Promise.allSettled(results);
  return {
    results: settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])),
    failed: settled.flatMap((s, i) => (s.status === 'rejected' ? [`${names[i]}: ${failureMessage(s.reason)}`] : [])),
  };
}

/** Prints the results (as JSON, or each formatted) and throws naming the runs that failed. */
export function report<R>(runbook: string, settled: { results: R[]; failed: string[] }, json: boolean | undefined, format: (result: R) => string): void {
  if (json) console.log(JSON.stringify(settled, null, 2));
  else for (const r of settled.results) console.log(format(r));
  if (settled.failed.length > 0) throw new Error(`${runbook} failed:\n${settled.failed.join('\n')}`);
}
