/**
 * The inspectCluster runbook's contract: a short, read-only look at every ESXi host and storage VM
 * of the inventory, for `esxi-zfs status`. The worker does the reading (it holds the vSphere
 * passwords and SSH keys); the CLI merges the answer with the replication status it reads from
 * Temporal. What each host is expected to have comes from the inventory (no secret: credential
 * references only); what it has is reported as read, never changed.
 */
import type { StorageHostRef } from '../hosts';
import type { NasMountSpec } from '../datastore/shared';
import type { EsxiHostRef, PciDeviceSelector } from '../passthrough/shared';

/** An ESXi host as the inventory has it: its passthrough device, its storage VM, the NFS datastores listed for it. */
export interface EsxiHostExpectation {
  host: EsxiHostRef;
  passthrough?: PciDeviceSelector;
  /** The storage VM on this host and its management address (what its guest should show). */
  storageVm?: { name: string; address: string };
  datastores: NasMountSpec[];
}

/** A dataset a storage VM should hold: its own (from the inventory) or a replica it receives. */
export interface ExpectedDataset {
  name: string;
  /** The inventory shares it over NFS (sharenfs should be set). */
  shared: boolean;
  /** For a replica: `vm:dataset` it is received from. */
  replicaOf?: string;
}

export interface StorageVmExpectation {
  ssh: StorageHostRef;
  pool: string;
  datasets: ExpectedDataset[];
}

/** One inventory host: its ESXi side (absent when the inventory has no vsphere section) and its storage VM. */
export interface HostInspectionInput {
  name: string;
  esxi?: EsxiHostExpectation;
  storageVm?: StorageVmExpectation;
}

export interface InspectClusterInput {
  hosts: HostInspectionInput[];
}

export interface PassthroughDeviceState {
  id: string;
  description: string;
  passthruEnabled: boolean;
  passthruActive: boolean;
}

export interface StorageVmPowerState {
  name: string;
  /** false: no VM of that name on the host. */
  found: boolean;
  powerState?: string;
  /** guest.ipAddress and guest.net, as VMware Tools report them. */
  guestAddresses: string[];
  toolsRunningStatus?: string;
}

export interface DatastoreState {
  name: string;
  /** NFS, NFS41, VMFS, ... */
  type: string;
  /** `remoteHost:remotePath` of an NFS datastore. */
  remote?: string;
  /** The inventory lists it for this host. */
  expected: boolean;
  /** Mounted on this host (an expected datastore the host does not have is not). */
  mounted: boolean;
  /** This host's view (its mount info) where given, else `summary.accessible`; absent when not mounted. */
  accessible?: boolean;
  inaccessibleReason?: string;
  /** How this host mounts it (readWrite, readOnly), where the endpoint says. */
  accessMode?: string;
  /** The inventory's access mode, for a datastore it lists. */
  expectedAccessMode?: string;
}

export interface EsxiHostState {
  name: string;
  /** runtime.connectionState: connected, notResponding, disconnected. */
  connectionState: string;
  inMaintenanceMode: boolean;
  bootTime?: string;
  /** The devices the inventory's selector matches (one, when the inventory is right). */
  passthrough?: { devices: PassthroughDeviceState[] };
  storageVm?: StorageVmPowerState;
  datastores: DatastoreState[];
}

export interface PoolState {
  name: string;
  health: string;
  sizeBytes: number;
  allocatedBytes: number;
  freeBytes: number;
  /** Devices of the log vdevs, and the cache devices, as zpool status names them. */
  log: string[];
  cache: string[];
}

export interface DatasetState {
  name: string;
  replicaOf?: string;
  shared: boolean;
  exists: boolean;
  usedBytes?: number;
  availableBytes?: number;
  mountpoint?: string;
  /** The sharenfs value; absent when off. */
  sharenfs?: string;
  snapshots: number;
  /** The newest snapshot (by createtxg) and its creation time (seconds since the epoch). */
  newestSnapshot?: { name: string; creation: number };
}

export interface StorageVmState {
  name: string;
  address: string;
  reachable: boolean;
  /** Why it was not reachable over SSH. */
  error?: string;
  /** The inventory's pool name, and the pool as read (absent: not imported, or the VM did not answer). */
  poolName: string;
  pool?: PoolState;
  datasets: DatasetState[];
}

/** What was read, or why it could not be (the host did not answer, the login failed). */
export type Inspected<T> = { state: T; error?: undefined } | { state?: undefined; error: string };

export interface HostInspection {
  name: string;
  esxi?: Inspected<EsxiHostState>;
  storageVm?: Inspected<StorageVmState>;
}

export interface InspectClusterResult {
  /** Workflow time (ISO 8601) the inspection began. */
  startedAt: string;
  hosts: HostInspection[];
}

/** The activities inspectCluster calls; both only read. */
export interface InspectActivities {
  inspectEsxiHost(expected: EsxiHostExpectation): Promise<EsxiHostState>;
  /** A VM that does not answer SSH is a state (reachable false), not a failure. */
  inspectStorageVm(expected: StorageVmExpectation): Promise<StorageVmState>;
}

/** Each inspection gets a fresh id: status runs side by side and never attach to an old one. */
export const inspectClusterWorkflowId = (at: Date, suffix: string) => `inspect-cluster/${at.toISOString()}-${suffix}`;
