/**
 * registerDatastore — the runbook's last part, for one storage VM's shares, on every ESXi host the
 * inventory lists for them (side by side; a host that fails does not stop the others):
 *
 *   "Add Networking ... VMkernel ... eSAN-Interface1, 10.0.1.1x"   → configureStorageNetwork
 *   "Add Storage ... Network File System ... uss1-nas-vol0"        → mountNasDatastores
 *
 * The result says per host what each step found and changed, and what failed. A host that failed
 * fails the run too (after every host had its turn), so a schedule or a parent sees it.
 */
import { ApplicationFailure, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import { Failure, NON_RETRYABLE } from '../core/failures';
import type { DatastoreActivities, HostMounts, HostOutcome, RegisterDatastoreInput, RegisterDatastoreResult } from '../core/datastore/shared';

const retry: RetryPolicy = { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.datastore] };
const { configureStorageNetwork, mountNasDatastores } = proxyActivities<DatastoreActivities>({ startToCloseTimeout: '5 minutes', retry });

/** The failure's own message (an activity's cause), for the per-host outcome. */
const messageOf = (error: unknown) => ((error as { cause?: Error }).cause ?? (error as Error)).message;

async function onHost({ host, storageNetwork, mounts }: HostMounts): Promise<HostOutcome> {
  const outcome: HostOutcome = { host: host.name, steps: [] };
  try {
    if (storageNetwork) outcome.steps.push({ step: 'configureStorageNetwork', report: await configureStorageNetwork(host, storageNetwork) });
    outcome.steps.push({ step: 'mountNasDatastores', report: await mountNasDatastores(host, mounts) });
  } catch (error) {
    outcome.failed = messageOf(error);
  }
  return outcome;
}

export async function registerDatastore(input: RegisterDatastoreInput): Promise<RegisterDatastoreResult> {
  const hosts = await Promise.all(input.hosts.map(onHost));
  const failed = hosts.filter((h) => h.failed !== undefined);
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `${input.vm}: ${failed.length} of ${hosts.length} host(s) failed: ${failed.map((h) => (h.failed!.startsWith(`${h.host}: `) ? h.failed : `${h.host}: ${h.failed}`)).join('; ')}`,
      Failure.DatastoreHostsFailed,
      { vm: input.vm, hosts },
    );
  }
  return { vm: input.vm, hosts };
}
