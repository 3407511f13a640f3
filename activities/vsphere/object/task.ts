// A task's end: its result on success, a TaskError carrying the task's fault on error.
import { TaskError } from '../vim25/fault';
import type { ManagedObjectReference, TaskInfo } from '../vim25/types';
import type { Client } from './client';
import { waitForProperties, type PropertyWaitOptions } from './property-collector';

export class TaskTimeoutError extends Error {
  override name = 'TaskTimeoutError';

  constructor(
    readonly task: ManagedObjectReference,
    readonly info: TaskInfo | undefined,
  ) {
    super(`task ${task.value}${info ? ` (${info.descriptionId}, ${info.state})` : ''} did not end in time`);
  }
}

const ended = (info: TaskInfo | undefined) => info?.state === 'success' || info?.state === 'error';

/** The task's info once it succeeded. Throws TaskError when it failed, TaskTimeoutError after `maxWaitSeconds`. */
export async function waitForTask(client: Client, task: ManagedObjectReference, options: PropertyWaitOptions = {}): Promise<TaskInfo> {
  const { reached, properties } = await waitForProperties(client, task, ['info'], (p) => ended(p.info as TaskInfo), options);
  const info = properties.info as TaskInfo | undefined;
  if (!reached || !info) throw new TaskTimeoutError(task, info);
  if (info.state === 'error') throw new TaskError(`${info.descriptionId || info.name || 'task'} ${task.value}`, info.error ?? { fault: {} });
  return info;
}

/** A running task, as the `*_Task` methods return it. */
export class Task {
  constructor(
    readonly client: Client,
    readonly ref: ManagedObjectReference,
  ) {}

  wait(options: PropertyWaitOptions = {}): Promise<TaskInfo> {
    return waitForTask(this.client, this.ref, options);
  }
}
