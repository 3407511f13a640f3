/**
 * The provisioning runbooks' inputs, from the inventory: each step's input as its own command
 * builds it. No secret: credentials are references the activities resolve.
 */
import type { ProvisionClusterInput, ProvisionHostInput } from '../core/provision/shared';
import { recoverDatastoresInput, registerDatastoreInput } from './datastore';
import { configureStorageInput } from './configure';
import { replicationJobs, replicationTrustInput } from './jobs';
import { enablePassthroughInput, esxiHostRef } from './passthrough';
import type { Inventory } from './schema';
import { buildStorageVmInput, storageVmHosts } from './storage-vm';

export function provisionHostInput(inventory: Inventory, hostName: string): ProvisionHostInput {
  const host = inventory.hosts.find((h) => h.name === hostName);
  if (!host) throw new Error(`no host ${hostName} in the inventory (hosts: ${inventory.hosts.map((h) => h.name).join(', ')})`);
  const vm = host.storageVm;
  if (!vm) throw new Error(`host ${hostName} has no storage VM in the inventory: nothing to provision there (its datastores are mounted by the cluster's run)`);
  const datastores = registerDatastoreInput(inventory, vm.name);
  // Its storage network is this run's own step, before the VM: the datastores' step only mounts.
  const own = datastores.hosts.filter((h) => h.host.name === hostName).map(({ storageNetwork: _, ...mounts }) => mounts);
  const net = host.storageNetwork;
  return {
    host: hostName,
    vm: vm.name,
    passthrough: enablePassthroughInput(inventory, hostName),
    ...(net && { storageNetwork: { host: esxiHostRef(inventory, hostName), network: { vswitch: net.vswitch, portGroup: net.portGroup, vmkernel: { name: net.vmkernel.name, address: net.vmkernel.address } } } }),
    storageVm: buildStorageVmInput(inventory, hostName),
    configure: configureStorageInput(inventory, vm.name),
    ...(own.length > 0 && { datastores: { vm: vm.name, hosts: own } }),
    ...(datastores.hosts.length > 0 && { recover: recoverDatastoresInput(inventory, vm.name) }),
  };
}

/**
 * Every host with a storage VM, every VM's shares on the other hosts listed (its own host mounts
 * them in its provisionHost), the ring's trust and schedules.
 */
export function provisionClusterInput(inventory: Inventory): ProvisionClusterInput {
  const jobs = replicationJobs(inventory);
  const hosts = storageVmHosts(inventory).map((name) => provisionHostInput(inventory, name));
  return {
    hosts,
    datastores: hosts
      .map(({ host, vm }) => {
        const d = registerDatastoreInput(inventory, vm);
        return { ...d, hosts: d.hosts.filter((m) => m.host.name !== host) };
      })
      .filter((d) => d.hosts.length > 0),
    ...(jobs.length > 0 && { trust: replicationTrustInput(inventory) }),
    schedules: jobs.filter((j) => j.schedule),
  };
}
