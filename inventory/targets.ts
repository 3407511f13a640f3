/** Storage VMs of the inventory, and the reference to one that workflows are given. */
import type { StorageHostRef } from '../core/hosts';
import type { Inventory, StorageVm } from './schema';

export function storageVms(inventory: Inventory): StorageVm[] {
  return inventory.hosts.flatMap((h) => (h.storageVm ? [h.storageVm] : []));
}

export function findStorageVm(inventory: Inventory, name: string): StorageVm {
  const vm = storageVms(inventory).find((v) => v.name === name);
  if (!vm) throw new Error(`storage VM '${name}' is not in the inventory (${storageVms(inventory).map((v) => v.name).join(', ')})`);
  return vm;
}

export function storageHostRef(inventory: Inventory, vm: StorageVm): StorageHostRef {
  const credential = inventory.credentials[vm.ssh.credentials];
  if (!credential) throw new Error(`credential '${vm.ssh.credentials}' of storage VM ${vm.name} is not defined`);
  const { user, privateKeyFile, privateKeyEnv, passwordEnv, passphraseEnv } = credential;
  // The NIC on its ESXi host's storage port group, else the first one that is not the management NIC.
  const storagePortGroup = inventory.hosts.find((h) => h.storageVm?.name === vm.name)?.storageNetwork?.portGroup;
  const storageNic =
    vm.nics.find((n) => n.portGroup === storagePortGroup) ??
    vm.nics.find((n) => n.address.split('/')[0] !== vm.ssh.address && !n.gateway) ??
    vm.nics[0]!;
  return {
    name: vm.name,
    os: vm.os,
    address: vm.ssh.address,
    port: vm.ssh.port,
    hostKey: vm.ssh.hostKey,
    credential: { user, privateKeyFile, privateKeyEnv, passwordEnv, passphraseEnv },
    diskDirectory: vm.diskDirectory,
    storageAddress: storageNic.address.split('/')[0]!,
  };
}
