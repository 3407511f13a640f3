/**
 * configureStorage — the runbook's middle part, once the storage VM answers SSH:
 *
 *   "Make sure the OS is what we think it is"                         → checkGuestOs
 *   the NICs: storage traffic on its own network, a gateway, routes   → configureNetwork
 *   then, side by side (neither needs the other, neither touches the connection):
 *     "/etc/hosts ... vh0-nas ... nsswitch.conf, resolv.conf"          → configureNameResolution
 *     "zpool create sp1 c8t1d0 log c11t0d0"                           → createPool
 *     "zfs create -p sp1/nas/vol0 ... set dedup=on"                   → configureDatasets
 *   "zfs set sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:... sp1/nas/vol0" → shareDatasets (its names resolve, its datasets exist)
 *   (last) the management address, when the VM answers elsewhere now  → switchManagementAddress
 *          (not called when it answers at its management address already)
 *
 * The network comes first on its own: on illumos it may hand the NICs to another service, which
 * must not happen under a running `zpool create`. Every step reads first, changes only what differs
 * and reports what it found and changed: a second run changes nothing. The connection address
 * changes last, verified before it is made persistent. The result lists the steps in the order above.
 */
import { patched, proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../core/failures';
import { STEP_HEARTBEAT_TIMEOUT } from '../core/heartbeat-timeout';
import type { ConfigureActivities } from '../activities/guest/configure';
import { CONFIGURE_STEPS, type ConfigureStep, type ConfigureStorageInput, type ConfigureStorageResult, type StepReport } from '../core/configure/shared';

const retry: RetryPolicy = { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.configure] };
const activities = proxyActivities<ConfigureActivities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT, retry });
/**
 * The short steps (tens of milliseconds: `uname` where the VM answers; `zfs get` and `zfs create`;
 * the storage NIC's files and `ip`; `zfs set sharenfs`) run as local activities: inside a workflow
 * task, with no server round trip before the next step. History records each as a marker with its
 * result. The pool (minutes on real disks) and the name files beside it, and the management address
 * switch (a guarded change that may wait for its revert) stay activities with heartbeats.
 */
type LocalSteps = Pick<ConfigureActivities, 'checkGuestOs' | 'configureDatasets' | 'configureNetwork' | 'shareDatasets'>;
const local = proxyLocalActivities<LocalSteps>({ startToCloseTimeout: '5 minutes', retry });
const { checkGuestOs, configureDatasets } = local;
/** Runs started before the network and share steps became local keep them as activities. */
const NETWORK_AND_SHARES_LOCAL = 'configure-network-and-shares-local';

/** Both branches run to their end (no step is left running unseen); then the first failure, if any, is the workflow's. */
async function bothBranches(a: Promise<void>, b: Promise<void>): Promise<void> {
  const failed = (await Promise.allSettled([a, b])).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function configureStorage(input: ConfigureStorageInput): Promise<ConfigureStorageResult> {
  const { network, pool, datasets } = input;
  const reports = new Map<ConfigureStep, StepReport>();
  const step = async (name: ConfigureStep, run: () => Promise<StepReport>) => {
    reports.set(name, await run());
  };

  // Until the last step, the VM is reached where it answers now: its management address, else reachAt.
  const reached = await checkGuestOs(input.host, input.reachAt);
  reports.set('checkGuestOs', reached.report);
  const host = { ...input.host, address: reached.address };
  const { configureNetwork, shareDatasets } = patched(NETWORK_AND_SHARES_LOCAL) ? local : activities;
  await step('configureNetwork', () => configureNetwork(host, network));
  await bothBranches(
    step('configureNameResolution', () => activities.configureNameResolution(host, network)),
    (async () => {
      await step('createPool', () => activities.createPool(host, pool));
      await step('configureDatasets', () => configureDatasets(host, { datasets, memoryGiB: input.memoryGiB }));
    })(),
  );
  await step('shareDatasets', () => shareDatasets(host, datasets));
  if (reached.address === input.host.address) {
    // Found at its management address: nothing to move (the activity would only read that again).
    reports.set('switchManagementAddress', { found: [`the VM answers at its management address ${input.host.address}`], changed: [], warnings: [] });
  } else {
    await step('switchManagementAddress', () => activities.switchManagementAddress(host, { network }));
  }
  return { host: input.host.name, steps: CONFIGURE_STEPS.map((name) => ({ step: name, report: reports.get(name)! })) };
}
