/**
 * enablePassthrough — the runbook's first part, on one ESXi host:
 *
 *   "Configuration > Advanced Settings > Configure Passthrough", the X1 ticked   → findPassthroughDevice, updatePassthruConfig
 *   (the host's VMs stopped or moved: maintenance mode, when the inventory asks)  → enterMaintenanceMode
 *   "reboot the host"                                                             → rebootHost
 *   ... until it answers again                                                    → waitForHostReboot (short activities and timers)
 *   the X1 listed as active                                                       → verifyPassthroughActive (one more reboot if the host reverted it)
 *                                                                                 → exitMaintenanceMode
 *
 * Already active: nothing changes, no reboot. The wait lives in the workflow: each activity waits
 * at most WAIT_SECONDS, then a timer, so a worker or server restart costs nothing. A host that is
 * not back by the inventory's rebootTimeout leaves the workflow waiting for `hostIsBack`, with a
 * status that names the classic cause.
 */
import { ApplicationFailure, condition, patched, proxyActivities, proxyLocalActivities, setHandler, sleep, workflowInfo, type RetryPolicy } from '@temporalio/workflow';
import { Failure, NON_RETRYABLE } from '../core/failures';
import type { StepReport } from '../core/configure/shared';
import {
  hostIsBackSignal, passthroughStatusQuery,
  type EnablePassthroughInput, type EnablePassthroughResult, type EnablePassthroughStep, type PassthroughActivities, type PassthroughStatus,
} from '../core/passthrough/shared';

/** One wait activity's longest wait: well under its start-to-close, heartbeating meanwhile. */
const WAIT_SECONDS = 60;
/** Between two wait activities (the endpoint may be the host itself, down while it boots). */
const WAIT_PAUSE = '5 seconds';

const retry: RetryPolicy = { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.passthrough] };
const steps = proxyActivities<PassthroughActivities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '1 minute', retry });
/** The short vSphere calls (a read, UpdatePassthruConfig, RebootHost_Task, leaving maintenance mode), in the workflow's own task. */
const quick = proxyLocalActivities<PassthroughActivities>({ startToCloseTimeout: '2 minutes', retry });
const waits = proxyActivities<Pick<PassthroughActivities, 'waitForHostReboot'>>({
  startToCloseTimeout: `${WAIT_SECONDS * 2} seconds`,
  heartbeatTimeout: '20 seconds',
  // The activity rides out an endpoint that is down (the host itself, rebooting): these retries are for the worker's own failures.
  retry: { ...retry, maximumAttempts: 20 },
});

const noChange = (found: string): StepReport => ({ found: [found], changed: [], warnings: [] });

export async function enablePassthrough(input: EnablePassthroughInput): Promise<EnablePassthroughResult> {
  const { host } = input;
  const reports: { step: EnablePassthroughStep; report: StepReport }[] = [];
  let status: PassthroughStatus = { step: 'findPassthroughDevice', since: new Date().toISOString() };
  const at = (step: EnablePassthroughStep | 'done', extra: Partial<PassthroughStatus> = {}) => {
    status = { step, since: new Date().toISOString(), ...extra };
  };
  let operatorSaysBack = false;
  setHandler(passthroughStatusQuery, () => status);
  setHandler(hostIsBackSignal, () => {
    operatorSaysBack = true;
  });
  const step = async (name: EnablePassthroughStep, run: () => Promise<StepReport>) => {
    at(name);
    reports.push({ step: name, report: await run() });
  };

  // Runs recorded before ran every step as an activity.
  const short = patched('vsphere-short-steps-local') ? quick : steps;
  const found = await short.findPassthroughDevice(host, input.device);
  reports.push({ step: 'findPassthroughDevice', report: found.report });
  const { device } = found;
  const result = (reboots: number): EnablePassthroughResult => {
    at('done');
    return { host: host.name, device: { id: device.id, description: device.description }, reboots, steps: reports };
  };
  if (device.passthruActive) return result(0);

  let bootTime = device.bootTime;
  let reboots = 0;
  for (;;) {
    await step('updatePassthruConfig', () => short.updatePassthruConfig(host, device.id));
    if (input.maintenanceMode) await step('enterMaintenanceMode', () => steps.enterMaintenanceMode(host, input.runningVms));
    await step('rebootHost', () => short.rebootHost(host, bootTime));
    reboots++;
    bootTime = await waitUntilBack(bootTime);
    at('verifyPassthroughActive');
    const after = (await short.findPassthroughDevice(host, { address: device.id })).device;
    if (after.passthruActive) {
      reports.push({ step: 'verifyPassthroughActive', report: noChange(`${device.id} passthruActive after the reboot`) });
      break;
    }
    if (reboots >= 2) {
      throw ApplicationFailure.nonRetryable(
        `${host.name}: ${device.id} is not active after ${reboots} reboots (passthruEnabled ${after.passthruEnabled}): check VT-d/IOMMU in the host's BIOS and the host's vmkernel log`,
        Failure.PassthroughNotActive,
      );
    }
    reports.push({
      step: 'verifyPassthroughActive',
      report: { found: [`${device.id} not active after the reboot (passthruEnabled ${after.passthruEnabled}): the host reverted it`], changed: [], warnings: ['applied again, one more reboot (known ESXi 8.0 behaviour)'] },
    });
    bootTime = after.bootTime;
  }
  if (input.maintenanceMode) await step('exitMaintenanceMode', () => short.exitMaintenanceMode(host));
  return result(reboots);

  /** Until the host is connected with a bootTime other than `before`; past the deadline, until an operator says it is back. */
  async function waitUntilBack(before: string): Promise<string> {
    const started = Date.now();
    let deadline = started + input.rebootTimeoutMs;
    at('waitForHostReboot', { deadline: new Date(deadline).toISOString() });
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const state = await waits.waitForHostReboot(host, { bootTimeBefore: before, maxWaitSeconds: Math.max(1, Math.min(WAIT_SECONDS, left)) });
      if (state.back) {
        reports.push({ step: 'waitForHostReboot', report: noChange(`${host.name} back after ${Math.round((Date.now() - started) / 1000)} s (${state.connectionState}, booted ${state.bootTime})`) });
        return state.bootTime!;
      }
      if (Date.now() >= deadline) {
        at('waitForHostReboot', {
          deadline: new Date(deadline).toISOString(),
          waitingForOperator:
            `${host.name} is not back ${Math.round((Date.now() - started) / 60_000)} min after its reboot (${state.connectionState}). ` +
            'A host that hangs after enabling passthrough usually has VT-d/IOMMU off in its BIOS, or the device shares its IOMMU group. ' +
            `Fix it, then send the signal hostIsBack (esxi-zfs signal or the UI: workflow ${workflowInfo().workflowId})`,
        });
        operatorSaysBack = false;
        await condition(() => operatorSaysBack);
        deadline = Date.now() + input.rebootTimeoutMs;
        at('waitForHostReboot', { deadline: new Date(deadline).toISOString() });
        continue;
      }
      await sleep(WAIT_PAUSE);
    }
  }
}
