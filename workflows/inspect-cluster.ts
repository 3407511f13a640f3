/**
 * inspectCluster — what `esxi-zfs status` shows of the live cluster, read by the worker (which holds
 * the credentials): every ESXi host and every storage VM side by side, each with a short timeout
 * and few retries. Read-only. A host or VM that does not answer is reported as such in the result:
 * the inspection itself never fails because of one.
 */
import { proxyActivities } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../core/failures';
import type { HostInspection, InspectActivities, InspectClusterInput, InspectClusterResult, Inspected } from '../core/status/shared';

// scheduleToClose bounds the wait for a worker too: without one, the inspection still ends.
const { inspectEsxiHost } = proxyActivities<InspectActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '75 seconds',
  retry: { maximumAttempts: 2, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.passthrough] },
});
const { inspectStorageVm } = proxyActivities<InspectActivities>({
  startToCloseTimeout: '60 seconds',
  scheduleToCloseTimeout: '90 seconds',
  retry: { maximumAttempts: 2, initialInterval: '2 seconds' },
});

/** The activity's own message (the failure's cause), not the SDK's wrapping. */
const messageOf = (error: unknown) => ((error as { cause?: Error }).cause ?? (error as Error)).message;

async function read<T>(fn: () => Promise<T>): Promise<Inspected<T>> {
  try {
    return { state: await fn() };
  } catch (error) {
    return { error: messageOf(error) };
  }
}

export async function inspectCluster(input: InspectClusterInput): Promise<InspectClusterResult> {
  const startedAt = new Date().toISOString();
  const hosts = await Promise.all(input.hosts.map(async (h): Promise<HostInspection> => {
    const [esxi, storageVm] = await Promise.all([
      h.esxi ? read(() => inspectEsxiHost(h.esxi!)) : undefined,
      h.storageVm ? read(() => inspectStorageVm(h.storageVm!)) : undefined,
    ]);
    return { name: h.name, ...(esxi && { esxi }), ...(storageVm && { storageVm }) };
  }));
  return { startedAt, hosts };
}
