/**
 * The live half of `esxi-zfs status`: an inspectCluster run under a fresh id (the worker reads the
 * hosts: it holds the credentials), awaited. No worker taking it within `noWorkerMs`, or no result
 * within the run's timeout, is reported as the reason the live state is missing, not thrown.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { inspectClusterWorkflowId, type InspectClusterInput } from '../core/status/shared';
import { Runbook, runSearchAttributes } from '../core/search-attributes';
import { inspectCluster } from '../workflows';
import { TASK_QUEUE } from '../workers/config';
import { failureMessage } from './failure-message';
import type { LiveInspection } from './status-view';

export interface InspectOptions {
  /** The run's execution timeout (default 3 minutes: the activities' own timeouts end it sooner). */
  timeoutMs?: number;
  /** How long a worker may take to pick the run up (default 10 s). */
  noWorkerMs?: number;
}

/** Started: WorkflowExecutionStarted and WorkflowTaskScheduled; a worker that took it adds WorkflowTaskStarted. */
const EVENTS_BEFORE_A_WORKER = 2;

export async function inspectLive(client: Client, input: InspectClusterInput, opts: InspectOptions = {}): Promise<LiveInspection> {
  const workflowId = inspectClusterWorkflowId(new Date(), randomUUID().slice(0, 8));
  const handle = await client.workflow.start(inspectCluster, {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [input],
    workflowExecutionTimeout: opts.timeoutMs ?? 180_000,
    typedSearchAttributes: runSearchAttributes(Runbook.inspectCluster, { hosts: input.hosts.map((h) => h.name) }),
    staticSummary: `status: inspect ${input.hosts.map((h) => h.name).join(', ')}`,
  });
  const result = handle.result();
  result.catch(() => undefined);
  const noWorkerMs = opts.noWorkerMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const waited = await Promise.race([result.then(() => 'done' as const, () => 'done' as const), new Promise<'waiting'>((resolve) => (timer = setTimeout(() => resolve('waiting'), noWorkerMs)))]);
  clearTimeout(timer);
  if (waited === 'waiting' && (await handle.describe()).historyLength <= EVENTS_BEFORE_A_WORKER) {
    const error = `no worker took ${workflowId} within ${noWorkerMs / 1000} s: is \`esxi-zfs worker\` running on task queue ${TASK_QUEUE}?`;
    await handle.terminate(error).catch(() => undefined);
    return { workflowId, error };
  }
  try {
    return { workflowId, result: await result };
  } catch (error) {
    return { workflowId, error: failureMessage(error) };
  }
}
