/**
 * The enablePassthrough runbook's contract: what it is given (from the inventory, no secret), what
 * its activities answer, the operator's signal and the status query.
 *
 * The runbook's first part: the log card (the runbook's DDRdrive X1) handed to VT-d passthrough on
 * its ESXi host. ESXi applies a passthrough change only at boot: `passthruEnabled` is what was
 * asked, `passthruActive` what the running host does. The host reboots, the workflow waits for it
 * durably (timers and short activities, never one activity through the reboot), then checks
 * `passthruActive` and puts the change back once if the host reverted it (ESXi 8.0 does, at times).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { StepReport } from '../configure/shared';
import type { CredentialRef } from '../hosts';

/** The vSphere endpoint as the inventory gives it: the credential a reference (user, variable names), resolved by activities. */
export interface VsphereEndpoint {
  url: string;
  credential: CredentialRef;
  /** SHA-1 or SHA-256, hex pairs with ':'; absent: the system's CAs. */
  thumbprint?: string;
}

/** The ESXi host as vSphere names it, and the endpoint that manages it. */
export interface EsxiHostRef {
  name: string;
  vsphere: VsphereEndpoint;
}

/** The device by PCI address, or by ids as the runbook finds it (vendor 0x19e3, class 0x0100). Ids are "0x" hex. */
export interface PciDeviceSelector {
  address?: string;
  vendorId?: string;
  deviceId?: string;
  classId?: string;
}

/** What to do about the host's running VMs before the reboot. */
export type RunningVmPolicy = 'refuse' | 'powerOff';

export interface EnablePassthroughInput {
  host: EsxiHostRef;
  device: PciDeviceSelector;
  /** How long the host may take to come back before the workflow asks an operator (ms). */
  rebootTimeoutMs: number;
  /** Enter maintenance mode before the reboot (and leave it after). */
  maintenanceMode: boolean;
  runningVms: RunningVmPolicy;
}

/** What the host says about the device and itself. */
export interface PassthroughDevice {
  /** The PCI address (`0000:0b:00.0`): vSphere's id for it. */
  id: string;
  /** What vSphere calls it (vendor and device names). */
  description: string;
  passthruEnabled: boolean;
  passthruActive: boolean;
  /** The host's runtime.bootTime (ISO 8601) when read. */
  bootTime: string;
}

/** One answer of the reboot wait: back means connected with a bootTime other than `before`. */
export interface HostRebootState {
  back: boolean;
  connectionState: string;
  bootTime?: string;
}

export const ENABLE_PASSTHROUGH_STEPS = [
  'findPassthroughDevice',
  'updatePassthruConfig',
  'enterMaintenanceMode',
  'rebootHost',
  'waitForHostReboot',
  'verifyPassthroughActive',
  'exitMaintenanceMode',
] as const;
export type EnablePassthroughStep = (typeof ENABLE_PASSTHROUGH_STEPS)[number];

export interface EnablePassthroughResult {
  host: string;
  device: { id: string; description: string };
  /** Reboots this run made (0: the device was active already; 2: the host reverted it once). */
  reboots: number;
  steps: { step: EnablePassthroughStep; report: StepReport }[];
}

/** Where the run is, for `esxi-zfs provision --wait` and the UI: built from workflow state, not logs. */
export interface PassthroughStatus {
  step: EnablePassthroughStep | 'done';
  /** Workflow time (ISO 8601) the step began. */
  since: string;
  /** While waiting for the reboot: when the workflow stops waiting by itself and asks an operator. */
  deadline?: string;
  /** Set when the host has not come back in time: what to check, and the signal that continues. */
  waitingForOperator?: string;
}

/** The operator's word that the host is back (after fixing what kept it down): the wait checks again. */
export const hostIsBackSignal = defineSignal('hostIsBack');
export const passthroughStatusQuery = defineQuery<PassthroughStatus>('passthroughStatus');

/** The activities the workflow calls (activities/vsphere/passthrough.ts makes them), each reading first. */
export interface PassthroughActivities {
  /** The one device the selector names on the host, with the host's bootTime; several or none: non-retryable. */
  findPassthroughDevice(host: EsxiHostRef, selector: PciDeviceSelector): Promise<{ device: PassthroughDevice; report: StepReport }>;
  /** UpdatePassthruConfig with passthruEnabled true, unless it is already. */
  updatePassthruConfig(host: EsxiHostRef, deviceId: string): Promise<StepReport>;
  /** Running VMs refused (listed) or powered off, as the policy says; then EnterMaintenanceMode_Task unless in it. */
  enterMaintenanceMode(host: EsxiHostRef, runningVms: RunningVmPolicy): Promise<StepReport>;
  /** RebootHost_Task, only while the host is connected and still has `bootTimeBefore`: a retry never reboots twice. */
  rebootHost(host: EsxiHostRef, bootTimeBefore: string): Promise<StepReport>;
  /** Waits (WaitForUpdatesEx, heartbeating) up to maxWaitSeconds for the host to be connected with another bootTime. */
  waitForHostReboot(host: EsxiHostRef, wait: { bootTimeBefore: string; maxWaitSeconds: number }): Promise<HostRebootState>;
  exitMaintenanceMode(host: EsxiHostRef): Promise<StepReport>;
}
