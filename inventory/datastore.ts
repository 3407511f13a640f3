/**
 * registerDatastore's input for one storage VM, from the inventory: each ESXi host that a share of
 * the VM is to be mounted on, its storage network, and the mounts (the VM's storage address, the
 * dataset's mountpoint). No secret: the vSphere credential is a reference.
 */
import { DEFAULT_EXPORTS_TIMEOUT, type RecoverDatastoresInput } from '../core/datastore/recover';
import type { HostMounts, RegisterDatastoreInput } from '../core/datastore/shared';
import { durationMs } from './duration';
import { esxiHostRef } from './passthrough';
import type { Inventory } from './schema';
import { findStorageVm, storageHostRef } from './targets';

export function registerDatastoreInput(inventory: Inventory, vmName: string): RegisterDatastoreInput {
  const vm = findStorageVm(inventory, vmName);
  const remoteHost = storageHostRef(inventory, vm).storageAddress;
  const byHost = new Map<string, HostMounts>();
  for (const d of vm.datasets) {
    if (!d.datastore) continue;
    for (const name of d.datastore.mountOn) {
      let entry = byHost.get(name);
      if (!entry) {
        const storageNetwork = inventory.hosts.find((h) => h.name === name)?.storageNetwork;
        entry = {
          host: esxiHostRef(inventory, name),
          ...(storageNetwork && { storageNetwork: { vswitch: storageNetwork.vswitch, portGroup: storageNetwork.portGroup, vmkernel: { name: storageNetwork.vmkernel.name, address: storageNetwork.vmkernel.address } } }),
          mounts: [],
        };
        byHost.set(name, entry);
      }
      // ZFS's own default mountpoint when the inventory gives none.
      entry.mounts.push({ datastore: d.datastore.name, remoteHost, remotePath: d.mountpoint ?? `/${d.name}`, nfsVersion: d.datastore.nfs, accessMode: d.datastore.access });
    }
  }
  return { vm: vm.name, hosts: [...byHost.values()] };
}

/**
 * recoverDatastores' input for one storage VM: the same hosts and mounts as registerDatastore's
 * (what was mounted is what is recovered), the VM to ask for its exports, and how long to wait.
 */
export function recoverDatastoresInput(inventory: Inventory, vmName: string): RecoverDatastoresInput {
  const vm = findStorageVm(inventory, vmName);
  const { hosts } = registerDatastoreInput(inventory, vmName);
  return {
    vm: vm.name,
    storageHost: storageHostRef(inventory, vm),
    exports: [...new Set(hosts.flatMap((h) => h.mounts.map((m) => m.remotePath)))],
    nfsVersion: hosts.some((h) => h.mounts.some((m) => m.nfsVersion === '3')) ? 3 : 4,
    hosts: hosts.map(({ host, mounts }) => ({ host, mounts })),
    exportsTimeoutMs: durationMs(vm.exportsTimeout ?? DEFAULT_EXPORTS_TIMEOUT),
  };
}
