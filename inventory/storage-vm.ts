/**
 * buildStorageVm's input for one ESXi host, from the inventory: the host's storage VM as
 * CreateVM_Task makes it (defaults per os), its passthrough device, where its guest must answer,
 * and the datastores it serves (the VMs on them start after it). No secret: the vSphere and SSH
 * credentials are references, resolved by the activities.
 */
import type { OsProfile } from '../core/hosts';
import type { BuildStorageVmInput, NicType, StorageVmSpec } from '../core/storage-vm/shared';
import { durationMs } from './duration';
import { esxiHostRef, pciDeviceSelector } from './passthrough';
import type { Inventory } from './schema';
import { storageHostRef } from './targets';

/** Per os: the guest id, the NIC model and the SCSI controller the guest has drivers for out of the box. */
export const OS_DEFAULTS: Record<OsProfile, { guestId: string; nicType: NicType; scsiController: StorageVmSpec['scsiController'] }> = {
  // illumos: e1000g is the runbook's NIC (vmxnet3s exists but is not in every distribution's install media); mpt_sas drives LSI Logic SAS.
  illumos: { guestId: 'solaris11_64Guest', nicType: 'e1000', scsiController: 'lsilogicsas' },
  // Debian: vmxnet3 and vmw_pvscsi are in the kernel: the paravirtual devices, less CPU per packet and I/O.
  linux: { guestId: 'debian12_64Guest', nicType: 'vmxnet3', scsiController: 'pvscsi' },
};

export const DEFAULT_GUEST_TIMEOUT = '15m';

/** The hosts whose inventory entry has a storage VM. */
export function storageVmHosts(inventory: Inventory): string[] {
  return inventory.hosts.filter((h) => h.storageVm).map((h) => h.name);
}

export function buildStorageVmInput(inventory: Inventory, hostName: string): BuildStorageVmInput {
  const host = inventory.hosts.find((h) => h.name === hostName);
  if (!host) throw new Error(`no host ${hostName} in the inventory`);
  const vm = host.storageVm;
  if (!vm) throw new Error(`host ${hostName} has no storage VM in the inventory`);
  if (!host.passthrough) throw new Error(`host ${hostName} has no passthrough device in the inventory: the storage VM is built with it`);
  if (!vm.bootDisk && !vm.iso) throw new Error(`storage VM ${vm.name}: give it a bootDisk ({ sizeGiB }) and/or an iso to install from`);
  const defaults = OS_DEFAULTS[vm.os];
  const { device } = host.passthrough;
  return {
    host: esxiHostRef(inventory, hostName),
    device: pciDeviceSelector(device),
    vm: {
      name: vm.name,
      guestId: vm.guestId ?? defaults.guestId,
      ...(vm.hardwareVersion !== undefined && { hardwareVersion: vm.hardwareVersion }),
      cpus: vm.cpus,
      memoryMB: Math.round(vm.memoryGiB * 1024),
      ...(vm.datastore !== undefined && { datastore: vm.datastore }),
      nics: vm.nics.map((n) => ({ portGroup: n.portGroup })),
      nicType: vm.nicType ?? defaults.nicType,
      scsiController: defaults.scsiController,
      ...(vm.bootDisk !== undefined && { bootDisk: { sizeGiB: vm.bootDisk.sizeGiB } }),
      ...(vm.iso !== undefined && { iso: vm.iso }),
    },
    ssh: storageHostRef(inventory, vm),
    guestTimeoutMs: durationMs(vm.guestTimeout ?? DEFAULT_GUEST_TIMEOUT),
    bootOrder: {
      datastores: [...new Set(vm.datasets.flatMap((d) => (d.datastore && d.datastore.mountOn.includes(hostName) ? [d.datastore.name] : [])))],
    },
  };
}
