/**
 * buildStorageVm — the runbook's VM build and its boot order, on one ESXi host:
 *
 *   the X1 listed as active on the host (enablePassthrough did it)          → findPassthroughDevice (else: run `esxi-zfs passthrough` first)
 *   "Create a new virtual machine": CPUs, memory all reserved, two NICs,
 *   the boot disk or the installer's ISO, "Add PCI device" the X1,
 *   pciPassthru0.msiEnabled = FALSE                                         → createStorageVm (an existing VM: accepted, or its differences reported)
 *   "power on"                                                              → powerOnStorageVm
 *   ... until the guest shows its address and SSH answers                   → waitForGuest (short activities and timers), waitForSsh
 *   "Virtual Machine Startup/Shutdown": the storage VM first, then the VMs
 *   on its datastores                                                       → configureBootOrder
 *
 * The wait lives in the workflow: each activity waits at most WAIT_SECONDS, then a timer, so a
 * worker or server restart costs nothing; past the inventory's guestTimeout the run fails with
 * GuestNotReady, saying what to look at.
 */
import { ActivityFailure, ApplicationFailure, patched, proxyActivities, proxyLocalActivities, setHandler, sleep, type RetryPolicy } from '@temporalio/workflow';
import { Failure, NON_RETRYABLE } from '../core/failures';
import { STEP_HEARTBEAT_TIMEOUT } from '../core/heartbeat-timeout';
import type { StepReport } from '../core/configure/shared';
import type { PassthroughActivities } from '../core/passthrough/shared';
import {
  storageVmStatusQuery,
  type BuildStorageVmInput, type BuildStorageVmResult, type BuildStorageVmStep, type StorageVmActivities, type StorageVmStatus,
} from '../core/storage-vm/shared';

/** One guest wait activity's longest wait: well under its start-to-close, heartbeating meanwhile. */
const WAIT_SECONDS = 60;
const WAIT_PAUSE = '5 seconds';

const retry: RetryPolicy = { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.storageVm] };
const steps = proxyActivities<StorageVmActivities & Pick<PassthroughActivities, 'findPassthroughDevice'>>({
  startToCloseTimeout: '10 minutes', heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT, retry,
});
/** The short vSphere calls (a read, PowerOnVM_Task, the autostart order), in the workflow's own task. */
const quick = proxyLocalActivities<StorageVmActivities & Pick<PassthroughActivities, 'findPassthroughDevice'>>({ startToCloseTimeout: '5 minutes', retry });
const waits = proxyActivities<Pick<StorageVmActivities, 'waitForGuest'>>({
  startToCloseTimeout: `${WAIT_SECONDS * 2} seconds`, heartbeatTimeout: '20 seconds', retry: { ...retry, maximumAttempts: 20 },
});
/** One SSH attempt: short, retried by the workflow's loop rather than by the retry policy. */
const ssh = proxyActivities<Pick<StorageVmActivities, 'waitForSsh'>>({
  startToCloseTimeout: '1 minute', heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT, retry: { ...retry, maximumAttempts: 1 },
});

export async function buildStorageVm(input: BuildStorageVmInput): Promise<BuildStorageVmResult> {
  const { host, vm } = input;
  const reports: { step: BuildStorageVmStep; report: StepReport }[] = [];
  let status: StorageVmStatus = { step: 'findPassthroughDevice', since: new Date().toISOString() };
  const at = (step: BuildStorageVmStep | 'done', extra: Partial<StorageVmStatus> = {}) => {
    status = { step, since: new Date().toISOString(), ...extra };
  };
  setHandler(storageVmStatusQuery, () => status);
  const step = async (name: BuildStorageVmStep, run: () => Promise<StepReport>) => {
    at(name);
    reports.push({ step: name, report: await run() });
  };

  // Runs recorded before ran every step as an activity.
  const short = patched('vsphere-short-steps-local') ? quick : steps;
  const found = await short.findPassthroughDevice(host, input.device);
  reports.push({ step: 'findPassthroughDevice', report: found.report });
  if (!found.device.passthruActive) {
    throw ApplicationFailure.nonRetryable(
      `${host.name}: ${found.device.id} (${found.device.description}) is not active for passthrough (passthruEnabled ${found.device.passthruEnabled}): ` +
        `run \`esxi-zfs passthrough FILE --host ${host.name}\` first, then build the VM`,
      Failure.PassthroughNotActive,
    );
  }

  at('createStorageVm');
  const created = await steps.createStorageVm(host, vm, found.device.id);
  reports.push({ step: 'createStorageVm', report: created.report });
  await step('powerOnStorageVm', () => short.powerOnStorageVm(host, vm.name));

  const started = Date.now();
  const deadline = started + input.guestTimeoutMs;
  at('waitForGuest', { deadline: new Date(deadline).toISOString() });
  for (;;) {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    const guest = await waits.waitForGuest(host, { vmName: vm.name, address: input.ssh.address, maxWaitSeconds: Math.max(1, Math.min(WAIT_SECONDS, left)) });
    if (guest.ready) {
      reports.push({ step: 'waitForGuest', report: { found: [`${vm.name} shows ${guest.ipAddresses.join(', ')} after ${Math.round((Date.now() - started) / 1000)} s`], changed: [], warnings: [] } });
      break;
    }
    if (Date.now() >= deadline) {
      throw ApplicationFailure.nonRetryable(
        `${vm.name} on ${host.name} does not show ${input.ssh.address} after ${Math.round((Date.now() - started) / 1000)} s ` +
          `(guest addresses: ${guest.ipAddresses.join(', ') || 'none'}, tools ${guest.toolsRunningStatus ?? 'unknown'}): ` +
          'check its console (installer still running? VMware Tools / open-vm-tools installed? the address in the guest?), then run again',
        Failure.GuestNotReady,
      );
    }
    await sleep(WAIT_PAUSE);
  }

  at('waitForSsh', { deadline: new Date(deadline).toISOString() });
  for (;;) {
    try {
      reports.push({ step: 'waitForSsh', report: await ssh.waitForSsh(input.ssh) });
      break;
    } catch (error) {
      // A refusal retrying cannot fix (a host key that is not the pinned one): at once.
      if (!(error instanceof ActivityFailure) || (error.cause instanceof ApplicationFailure && error.cause.nonRetryable)) throw error;
      if (Date.now() >= deadline) {
        throw ApplicationFailure.nonRetryable(
          `${vm.name} shows ${input.ssh.address} but SSH there does not answer with the pinned host key in time: ${error.cause?.message ?? error.message}`,
          Failure.GuestNotReady,
        );
      }
      await sleep(WAIT_PAUSE);
    }
  }

  await step('configureBootOrder', () => short.configureBootOrder(host, { vmName: vm.name, datastores: input.bootOrder.datastores }));
  at('done');
  return { host: host.name, vm: vm.name, backing: created.vm.backing, steps: reports };
}
