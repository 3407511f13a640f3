/**
 * The registerDatastore runbook's contract: the runbook's last part, on each ESXi host that mounts
 * a storage VM's shares. The storage network as the runbook lays it out (a vSwitch, the storage
 * VMs' port group, a VMkernel NIC with a static address on its own port group: the runbook's
 * eSAN-Interface1), then each share as an NFS datastore. A datastore is what it mounts: the same
 * remote host, path, NFS version and access mode under its name is in place; its name on another export is an
 * error naming both, never changed.
 */
import type { StepReport } from '../configure/shared';
import type { EsxiHostRef } from '../passthrough/shared';

export interface StorageNetworkSpec {
  vswitch: string;
  /** The storage VMs' port group (their second NIC). */
  portGroup: string;
  /** The VMkernel NIC: its own port group's name and its static address (CIDR). */
  vmkernel: { name: string; address: string };
}

export type NfsVersion = '3' | '4.1';

export interface NasMountSpec {
  /** The datastore's name on the host. */
  datastore: string;
  /** The storage VM's address on the storage network. */
  remoteHost: string;
  /** The dataset's mountpoint. */
  remotePath: string;
  nfsVersion: NfsVersion;
  /** The API's HostMountMode. */
  accessMode: AccessMode;
}

export type AccessMode = 'readWrite' | 'readOnly';

export interface HostMounts {
  host: EsxiHostRef;
  /** Absent: the host's storage network is not the inventory's to make. */
  storageNetwork?: StorageNetworkSpec;
  mounts: NasMountSpec[];
}

export interface RegisterDatastoreInput {
  /** The storage VM whose shares these are. */
  vm: string;
  hosts: HostMounts[];
}

export const REGISTER_DATASTORE_STEPS = ['configureStorageNetwork', 'mountNasDatastores'] as const;
export type RegisterDatastoreStep = (typeof REGISTER_DATASTORE_STEPS)[number];

export interface HostOutcome {
  host: string;
  steps: { step: RegisterDatastoreStep; report: StepReport }[];
  /** The failure that stopped this host, when one did (the other hosts went on). */
  failed?: string;
}

export interface RegisterDatastoreResult {
  vm: string;
  hosts: HostOutcome[];
}

export interface DatastoreActivities {
  /** The vSwitch, both port groups and the VMkernel NIC with its address: added where missing; another address or vSwitch is an error. */
  configureStorageNetwork(host: EsxiHostRef, network: StorageNetworkSpec): Promise<StepReport>;
  /** Each share mounted (CreateNasDatastore) unless the same export is mounted under that name already. */
  mountNasDatastores(host: EsxiHostRef, mounts: NasMountSpec[]): Promise<StepReport>;
}
