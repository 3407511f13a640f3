/**
 * registerDatastore's input for one storage VM, from the inventory: each ESXi host that a share of
 * the VM is to be mounted on, its storage network, and the mounts (the VM's storage address, the
 * dataset's mountpoint). No secret: the vSphere credential is a reference.
 */
import type { HostMounts, RegisterDatastoreInput } from '../core/datastore/shared';
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
