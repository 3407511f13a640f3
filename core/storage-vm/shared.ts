/**
 * The buildStorageVm runbook's contract: what it is given (from the inventory, no secret), what its
 * activities answer, and the status query.
 *
 * The runbook's VM build: the storage VM made on its ESXi host with the log card handed to it by
 * passthrough (which enablePassthrough made active), its memory fully reserved (passthrough needs
 * it), its NICs on the management and storage port groups and a boot disk or the installer's ISO;
 * powered on, its address seen by VMware Tools and SSH answering with the pinned host key. Then
 * the boot order: the storage VM starts first and is waited for, the VMs on its datastores after it.
 */
import { defineQuery } from '@temporalio/workflow';
import type { StepReport } from '../configure/shared';
import type { StorageHostRef } from '../hosts';
import type { EsxiHostRef, PciDeviceSelector } from '../passthrough/shared';

export type NicType = 'vmxnet3' | 'e1000';

/** The VM as CreateVM_Task makes it; every field is compared with an existing VM of that name. */
export interface StorageVmSpec {
  name: string;
  /** vSphere's guest id (`solaris11_64Guest`, `debian12_64Guest`). */
  guestId: string;
  /** `vmx-19`; absent: the host's default for new VMs. */
  hardwareVersion?: string;
  cpus: number;
  memoryMB: number;
  /** The datastore for the VM's files; absent: the host's only datastore that is not NFS. */
  datastore?: string;
  /** One NIC per port group, in the inventory's order (the first is the management NIC). */
  nics: { portGroup: string }[];
  nicType: NicType;
  /** SCSI controller for the boot disk: illumos LSI Logic SAS (mpt_sas), linux paravirtual (vmw_pvscsi). */
  scsiController: 'lsilogicsas' | 'pvscsi';
  bootDisk?: { sizeGiB: number };
  /** `[datastore1] iso/omnios.iso`, connected at power on. */
  iso?: string;
}

export interface BuildStorageVmInput {
  host: EsxiHostRef;
  /** The passthrough device, as enablePassthrough finds it: it must be active already. */
  device: PciDeviceSelector;
  vm: StorageVmSpec;
  /** The address the guest must show (guest.ipAddress / guest.net), and SSH there with the pinned key. */
  ssh: StorageHostRef;
  /** How long the guest may take to show its address and answer SSH (ms). */
  guestTimeoutMs: number;
  /** The datastores this VM serves (from its datasets): the VMs on them start after it. */
  bootOrder: { datastores: string[] };
}

/** Which passthrough backing the VM's device has: pinned to the host's device, or Dynamic DirectPath I/O. */
export type PassthroughBacking = 'fixed' | 'dynamic';

export interface CreatedVm {
  /** The VM's managed object id (`vm-42`). */
  id: string;
  backing: PassthroughBacking;
}

/** One answer of the guest wait: ready when the address shows. */
export interface GuestState {
  ready: boolean;
  ipAddresses: string[];
  toolsRunningStatus?: string;
}

export const BUILD_STORAGE_VM_STEPS = [
  'findPassthroughDevice',
  'createStorageVm',
  'powerOnStorageVm',
  'waitForGuest',
  'waitForSsh',
  'configureBootOrder',
] as const;
export type BuildStorageVmStep = (typeof BUILD_STORAGE_VM_STEPS)[number];

export interface BuildStorageVmResult {
  host: string;
  vm: string;
  backing: PassthroughBacking;
  steps: { step: BuildStorageVmStep; report: StepReport }[];
}

export interface StorageVmStatus {
  step: BuildStorageVmStep | 'done';
  since: string;
  /** While waiting for the guest: when the run gives up. */
  deadline?: string;
}

export const storageVmStatusQuery = defineQuery<StorageVmStatus>('storageVmStatus');

/** The activities the workflow calls (activities/vsphere/storage-vm.ts makes them), each reading first. */
export interface StorageVmActivities {
  /**
   * The VM named `vm.name`: made (CreateVM_Task) when absent; accepted unchanged when it has the
   * spec's configuration; any difference is a non-retryable StorageVmDiffers listing them.
   */
  createStorageVm(host: EsxiHostRef, vm: StorageVmSpec, deviceId: string): Promise<{ vm: CreatedVm; report: StepReport }>;
  /** PowerOnVM_Task unless on; a refusal (passthrough, memory) is non-retryable with the host's reason. */
  powerOnStorageVm(host: EsxiHostRef, vmName: string): Promise<StepReport>;
  /** Waits (WaitForUpdatesEx on guest.ipAddress and guest.net, heartbeating) up to maxWaitSeconds for `address`. */
  waitForGuest(host: EsxiHostRef, wait: { vmName: string; address: string; maxWaitSeconds: number }): Promise<GuestState>;
  /** `true` over SSH at the VM's address with its pinned host key; throws (retryable) until it answers. */
  waitForSsh(ssh: StorageHostRef): Promise<StepReport>;
  /** ReconfigureAutostart: autostart on, the storage VM first with waitForHeartbeat, the VMs on `datastores` after it. */
  configureBootOrder(host: EsxiHostRef, order: { vmName: string; datastores: string[] }): Promise<StepReport>;
}
