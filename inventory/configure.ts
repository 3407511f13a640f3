/**
 * configureStorage's input for one storage VM, from the inventory: no secret (the credential is
 * a reference), every value already checked by the schema and the cross-checks.
 */
import type {
  ConfigureStorageInput, DatasetSpec, DiskSelector, HostsEntry, NetworkSpec, NicSpec, PoolSpec, ShareSpec, VdevSpec,
} from '../core/configure/shared';
import { storageNameOf } from './checks/references';
import { sizeBytes, vdevKind, type Inventory, type SelectorValue, type StorageVm, type VdevValue } from './schema';
import { findStorageVm, storageHostRef, storageVms } from './targets';

function selector(value: SelectorValue): DiskSelector {
  const { disk, model, serial, size } = value;
  return {
    ...(disk !== undefined && { disk }),
    ...(model !== undefined && { model }),
    ...(serial !== undefined && { serial }),
    ...(size?.min !== undefined && { minBytes: sizeBytes(size.min) }),
    ...(size?.max !== undefined && { maxBytes: sizeBytes(size.max) }),
  };
}

function vdev(value: VdevValue): VdevSpec {
  const kind = vdevKind(value);
  return { kind, disks: kind === 'disk' ? [selector(value)] : value[kind]!.map(selector) };
}

export function poolSpec(pool: StorageVm['pool']): PoolSpec {
  return {
    name: pool.name,
    data: pool.data.map(vdev),
    log: (pool.log ?? []).map(vdev),
    cache: (pool.cache ?? []).map(selector),
    spares: (pool.spares ?? []).map(selector),
    properties: pool.properties ?? {},
    force: pool.force,
  };
}

const addressOf = (cidr: string) => cidr.split('/')[0]!;

/** The management NIC carries ssh.address; the storage NIC is on its ESXi host's storage port group. */
function nicSpecs(vm: StorageVm, storagePortGroup: string | undefined): NicSpec[] {
  const management = vm.nics.findIndex((n) => addressOf(n.address) === vm.ssh.address);
  const managementIndex = management >= 0 ? management : Math.max(0, vm.nics.findIndex((n) => n.gateway !== undefined));
  return vm.nics.map((n, i) => ({
    ...(n.device !== undefined && { device: n.device }),
    address: n.address,
    ...(n.gateway !== undefined && { gateway: n.gateway }),
    role: i === managementIndex ? 'management' : n.portGroup === storagePortGroup ? 'storage' : 'other',
  }));
}

/** /etc/hosts: the hypervisors' storage names on their VMkernel addresses, the other storage VMs on their storage addresses. */
function hostsEntries(inventory: Inventory, self: StorageVm): HostsEntry[] {
  const hypervisors = inventory.hosts.flatMap((h) => {
    const vmkernel = h.storageNetwork?.vmkernel;
    return vmkernel ? [{ address: addressOf(vmkernel.address), names: [storageNameOf(h.name, vmkernel.hostName)] }] : [];
  });
  const others = storageVms(inventory)
    .filter((vm) => vm.name !== self.name)
    .map((vm) => ({ address: storageHostRef(inventory, vm).storageAddress, names: [vm.name] }));
  return [...hypervisors, ...others];
}

export function networkSpec(inventory: Inventory, vm: StorageVm): NetworkSpec {
  const host = inventory.hosts.find((h) => h.storageVm?.name === vm.name);
  return {
    hostName: vm.name,
    nics: nicSpecs(vm, host?.storageNetwork?.portGroup),
    routes: vm.routes ?? [],
    ...(vm.dns && { dns: vm.dns }),
    hosts: hostsEntries(inventory, vm),
  };
}

/** A dataset's share as configureStorage and clone-replica are given it. */
export function shareSpec(share: NonNullable<StorageVm['datasets'][number]['share']>): ShareSpec {
  return { rw: share.rw, ro: share.ro ?? [], root: share.root, nosuid: share.nosuid };
}

function datasetSpecs(vm: StorageVm): DatasetSpec[] {
  return vm.datasets.map((d) => ({
    name: d.name,
    ...(d.mountpoint !== undefined && { mountpoint: d.mountpoint }),
    properties: d.properties ?? {},
    ...(d.share && { share: shareSpec(d.share) }),
  }));
}

export function configureStorageInput(inventory: Inventory, vmName: string, reachAt?: string): ConfigureStorageInput {
  const vm = findStorageVm(inventory, vmName);
  return {
    host: storageHostRef(inventory, vm),
    ...(reachAt !== undefined && { reachAt }),
    memoryGiB: vm.memoryGiB,
    network: networkSpec(inventory, vm),
    pool: poolSpec(vm.pool),
    datasets: datasetSpecs(vm),
  };
}
