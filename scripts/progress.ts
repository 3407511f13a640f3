/** Live progress of a replication run: phase from the workflow's query, bytes from the stream's heartbeats. */
import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { formatBytes } from '../core/format';
import { progressQuery, type TransferProgress } from '../core/replication/shared';

async function transferProgress(client: Client, handle: WorkflowHandle): Promise<TransferProgress | undefined> {
  const description = await handle.describe();
  const pending = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'sendSnapshot');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  if (!payload) return undefined;
  return client.options.loadedDataConverter.payloadConverter.fromPayload<TransferProgress>(payload);
}

/** Shows phase, bytes, rate and elapsed time until the run ends; returns its result. */
export async function followReplication<T>(client: Client, handle: WorkflowHandle, interactive: boolean): Promise<T> {
  const bar = new SingleBar({
    format: '{dataset} {phase} {bytes} at {rate}/s, {elapsed}s',
    hideCursor: true,
    noTTYOutput: !interactive,
    notTTYSchedule: 5000,
  });
  const started = Date.now();
  bar.start(1, 0, { dataset: handle.workflowId, phase: 'starting', bytes: '0 B', rate: '0 B', elapsed: 0 });
  let finished = false;
  const result = handle.result().finally(() => {
    finished = true;
  });
  while (!finished) {
    await Promise.race([result.catch(() => undefined), sleep(1000)]);
    if (finished) break;
    try {
      const progress = await handle.query(progressQuery);
      const transfer = progress.phase === 'send' ? await transferProgress(client, handle) : undefined;
      bar.update(0, {
        phase: progress.phase,
        bytes: formatBytes(transfer?.bytes ?? 0),
        rate: formatBytes(transfer?.bytesPerSecond ?? 0),
        elapsed: Math.round((Date.now() - started) / 1000),
      });
    } catch {
      // The run may end between the check and the query: the result below tells.
    }
  }
  bar.stop();
  return (await result) as T;
}
