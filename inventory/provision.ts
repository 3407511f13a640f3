/**
 * The provisioning runbooks' inputs, from the inventory: each step's input as its own command
 * builds it. No secret: credentials are references the activities resolve.
 */
import type { ProvisionClusterInput, ProvisionHostInput } from '../core/provision/shared';
import { registerDatastoreInput } from './datastore';
import { configureStorageInput } from './configure';
import { replicationJobs, replicationTrustInput } from './jobs';
import { enablePassthroughInput, esxiHostRef } from './passthrough';
import type { Inventory } from './schema';
import { buildStorageVmInput, storageVmHosts } from './storage-vm';
import { storageVms } from './targets';

export function provisionHostInput(inventory: Inventory, hostName: string): ProvisionHostInput {
  const host = inventory.hosts.find((h) => h.name === hostName);
  if (!host) throw new Error(`no host ${hostName} in the inventory (hosts: ${inventory.hosts.map((h) => h.name).join(', ')})`);
  const vm = host.storageVm;
  if (!vm) throw new Error(`host ${hostName} has no storage VM in the inventory: nothing to provision there (its datastores are mounted by the cluster's run)`);
  const datastores = registerDatastoreInput(inventory, vm.name);
  const own = datastores.hosts.filter((h) => h.host.name === hostName);
  const net = host.storageNetwork;
  return {
    host: hostName,
    vm: vm.name,
    passthrough: enablePassthroughInput(inventory, hostName),
    ...(net && { storageNetwork: { host: esxiHostRef(inventory, hostName), network: { vswitch: net.vswitch, portGroup: net.portGroup, vmkernel: { name: net.vmkernel.name, address: net.vmkernel.address } } } }),
    storageVm: buildStorageVmInput(inventory, hostName),
    configure: configureStorageInput(inventory, vm.name),
    ...(own.length > 0 && { datastores: { vm: vm.name, hosts: own } }),
  };
}

/** Every host with a storage VM, every VM's shares on every host listed, the ring's trust and schedules. */
export function provisionClusterInput(inventory: Inventory): ProvisionClusterInput {
  const jobs = replicationJobs(inventory);
  return {
    hosts: storageVmHosts(inventory).map((name) => provisionHostInput(inventory, name)),
    datastores: storageVms(inventory).map((vm) => registerDatastoreInput(inventory, vm.name)).filter((d) => d.hosts.length > 0),
    ...(jobs.length > 0 && { trust: replicationTrustInput(inventory) }),
    schedules: jobs.filter((j) => j.schedule),
  };
}
