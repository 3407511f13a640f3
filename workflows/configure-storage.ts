/**
 * configureStorage — the runbook's middle part, once the storage VM answers SSH:
 *
 *   "Make sure the OS is what we think it is"                         → checkGuestOs
 *   the NICs: storage traffic on its own network, a gateway, routes   → configureNetwork
 *   "/etc/hosts ... vh0-nas ... nsswitch.conf, resolv.conf"            → configureNameResolution
 *   "zpool create sp1 c8t1d0 log c11t0d0"                             → createPool
 *   "zfs create -p sp1/nas/vol0 ... set dedup=on"                     → configureDatasets
 *   "zfs set sharenfs=rw,nosuid,root=vh3-nas:vh2-nas:... sp1/nas/vol0" → shareDatasets
 *   (last) the management address, when the VM answers elsewhere now  → switchManagementAddress
 *          (not called when it answers at its management address already)
 *
 * Every step reads first, changes only what differs and reports what it found and changed: a second
 * run changes nothing. The connection address changes last, verified before it is made persistent.
 */
import { proxyActivities } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../core/failures';
import type { ConfigureActivities } from '../activities/guest/configure';
import type { ConfigureStep, ConfigureStorageInput, ConfigureStorageResult, StepReport } from '../core/configure/shared';

const activities = proxyActivities<ConfigureActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.configure] },
});

export async function configureStorage(input: ConfigureStorageInput): Promise<ConfigureStorageResult> {
  const { network, pool, datasets } = input;
  const steps: { step: ConfigureStep; report: StepReport }[] = [];
  const step = async (name: ConfigureStep, run: () => Promise<StepReport>) => {
    steps.push({ step: name, report: await run() });
  };

  // Until the last step, the VM is reached where it answers now: its management address, else reachAt.
  const reached = await activities.checkGuestOs(input.host, input.reachAt);
  steps.push({ step: 'checkGuestOs', report: reached.report });
  const host = { ...input.host, address: reached.address };
  await step('configureNetwork', () => activities.configureNetwork(host, network));
  await step('configureNameResolution', () => activities.configureNameResolution(host, network));
  await step('createPool', () => activities.createPool(host, pool));
  await step('configureDatasets', () => activities.configureDatasets(host, { datasets, memoryGiB: input.memoryGiB }));
  await step('shareDatasets', () => activities.shareDatasets(host, datasets));
  if (reached.address === input.host.address) {
    // Found at its management address: nothing to move (the activity would only read that again).
    steps.push({ step: 'switchManagementAddress', report: { found: [`the VM answers at its management address ${input.host.address}`], changed: [], warnings: [] } });
  } else {
    await step('switchManagementAddress', () => activities.switchManagementAddress(host, { network }));
  }
  return { host: input.host.name, steps };
}
