/**
 * inspectCluster's input, from the inventory: per host what it should have (its passthrough device,
 * its storage VM, the NFS datastores listed for it; the storage VM's pool and datasets, and the
 * replicas it receives). No secret: credentials are references the activities resolve.
 */
import type { NasMountSpec } from '../core/datastore/shared';
import type { ExpectedDataset, HostInspectionInput, InspectClusterInput } from '../core/status/shared';
import { registerDatastoreInput } from './datastore';
import { replicationJobs } from './jobs';
import { esxiHostRef, pciDeviceSelector } from './passthrough';
import type { Inventory } from './schema';
import { storageHostRef, storageVms } from './targets';

export function inspectClusterInput(inventory: Inventory): InspectClusterInput {
  const mounts = new Map<string, NasMountSpec[]>();
  for (const vm of inventory.vsphere ? storageVms(inventory) : []) {
    for (const h of registerDatastoreInput(inventory, vm.name).hosts) mounts.set(h.host.name, [...(mounts.get(h.host.name) ?? []), ...h.mounts]);
  }
  const replicas = replicationJobs(inventory);
  return {
    hosts: inventory.hosts.map((host): HostInspectionInput => {
      const vm = host.storageVm;
      const datasets: ExpectedDataset[] = vm
        ? [
          ...vm.datasets.map((d) => ({ name: d.name, shared: d.share !== undefined })),
          ...replicas.filter((j) => j.target.host.name === vm.name).map((j) => ({ name: j.target.dataset, shared: false, replicaOf: `${j.source.host.name}:${j.source.dataset}` })),
        ]
        : [];
      return {
        name: host.name,
        ...(inventory.vsphere && {
          esxi: {
            host: esxiHostRef(inventory, host.name),
            ...(host.passthrough && { passthrough: pciDeviceSelector(host.passthrough.device) }),
            ...(vm && { storageVm: { name: vm.name, address: vm.ssh.address } }),
            datastores: mounts.get(host.name) ?? [],
          },
        }),
        ...(vm && { storageVm: { ssh: storageHostRef(inventory, vm), pool: vm.pool.name, datasets } }),
      };
    }),
  };
}
