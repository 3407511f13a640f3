/**
 * recoverDatastores — after a storage VM or its ESXi host rebooted, for that VM's shares:
 *
 *   wait until the VM's NFS server answers and exports them   → checkNfsExports (short attempts, timers between)
 *   on every host that mounts them, side by side:
 *     have the host look at its storage again                  → refreshHostStorage
 *     read each datastore: accessible? running VMs on it?      → readNasDatastores
 *     remount one that is inaccessible and idle (decide)       → remountNasDatastore, one at a time
 *
 * Nothing on a host is touched before the exports answer: a remount against a server that is not
 * there fails and leaves the datastore unmounted. The progress query says where the run is. A host
 * that failed fails the run (after every host had its turn); datastores still inaccessible (running
 * VMs on them, a refused remount) are in the result, for the operator.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, setHandler, sleep, type RetryPolicy } from '@temporalio/workflow';
import { Failure, NON_RETRYABLE } from '../core/failures';
import {
  decide, recoverDatastoresProgressQuery,
  type DatastoreOutcome, type ExportsCheck, type HostRecovery, type RecoverDatastoresActivities, type RecoverDatastoresInput, type RecoverDatastoresProgress,
  type RecoverDatastoresResult, type RecoverHost,
} from '../core/datastore/recover';

const retry: RetryPolicy = { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.recover] };
const { refreshHostStorage, readNasDatastores, remountNasDatastore } = proxyActivities<RecoverDatastoresActivities>({
  startToCloseTimeout: '10 minutes', heartbeatTimeout: '1 minute', retry,
});
/** One look at the exports: short, repeated by the workflow's loop rather than by the retry policy. */
const { checkNfsExports } = proxyActivities<RecoverDatastoresActivities>({
  startToCloseTimeout: '1 minute', heartbeatTimeout: '30 seconds', retry: { ...retry, maximumAttempts: 1 },
});

/** Between looks: from 5 s, doubling, at most 30 s (a storage VM boots in minutes; the history stays small). */
const FIRST_PAUSE_MS = 5_000;
const MAX_PAUSE_MS = 30_000;

const messageOf = (error: unknown) => ((error as { cause?: Error }).cause ?? (error as Error)).message;

export async function recoverDatastores(input: RecoverDatastoresInput): Promise<RecoverDatastoresResult> {
  const started = Date.now();
  const deadline = started + input.exportsTimeoutMs;
  const progress: RecoverDatastoresProgress = { phase: 'waitingForExports', deadline: new Date(deadline).toISOString(), exportChecks: 0, hosts: [] };
  setHandler(recoverDatastoresProgressQuery, () => progress);

  const exports = await waitForExports(input, deadline, progress);

  progress.phase = 'refreshing';
  const onHost = async ({ host, mounts }: RecoverHost): Promise<HostRecovery> => {
    const outcome: HostRecovery = { host: host.name, datastores: [] };
    try {
      outcome.refresh = await refreshHostStorage(host, mounts.map((m) => m.datastore));
      const views = await readNasDatastores(host, mounts);
      for (const mount of mounts) {
        const decision = decide(mount, views.find((v) => v.datastore === mount.datastore) ?? { datastore: mount.datastore }, host.name);
        const result: DatastoreOutcome = decision === 'remount' ? await remountNasDatastore(host, mount) : decision;
        outcome.datastores.push(result);
      }
    } catch (error) {
      outcome.failed = messageOf(error);
    }
    progress.hosts.push(outcome);
    return outcome;
  };
  const hosts = await Promise.all(input.hosts.map(onHost));
  progress.phase = 'done';

  const failed = hosts.filter((h) => h.failed !== undefined);
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `${input.vm}: ${failed.length} of ${hosts.length} host(s) failed: ${failed.map((h) => `${h.host}: ${h.failed}`).join('; ')}`,
      Failure.DatastoreHostsFailed,
      { vm: input.vm, hosts },
    );
  }
  return { vm: input.vm, exports, exportChecks: progress.exportChecks, hosts };
}

async function waitForExports(input: RecoverDatastoresInput, deadline: number, progress: RecoverDatastoresProgress): Promise<ExportsCheck> {
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    progress.exportChecks += 1;
    try {
      const check = await checkNfsExports(input.storageHost, input.exports, input.nfsVersion);
      progress.lastCheck = check.detail;
      if (check.answered) return check;
    } catch (error) {
      // A refusal retrying cannot fix (a host key that is not the pinned one): at once.
      if (!(error instanceof ActivityFailure) || (error.cause instanceof ApplicationFailure && error.cause.nonRetryable)) throw error;
      progress.lastCheck = messageOf(error);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw ApplicationFailure.nonRetryable(
        `${input.vm}: its NFS exports did not answer within ${Math.round(input.exportsTimeoutMs / 1000)} s ` +
          `(${progress.exportChecks} checks; last: ${progress.lastCheck}). Nothing was refreshed or remounted on ` +
          `${input.hosts.map((h) => h.host.name).join(', ')}: check that ${input.vm} runs, its pool is imported and its NFS server shares ` +
          `${input.exports.join(', ')}, then run recover-datastores again`,
        Failure.ExportsNotAnswering,
        { vm: input.vm, lastCheck: progress.lastCheck },
      );
    }
    // The last look falls on the deadline.
    await sleep(Math.min(pause, left));
    pause = Math.min(pause * 2, MAX_PAUSE_MS);
  }
}
