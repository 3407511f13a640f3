/**
 * The configureStorage runbook's contract: what it is given (from the inventory, no secret), its
 * steps in the runbook's order, and what each step reports.
 *
 * The runbook's middle part, once the storage VM answers SSH: its two NICs (management, and
 * storage traffic only), routes, /etc/hosts and DNS; the pool from disks chosen by role (data,
 * log, cache, spares); datasets with their properties; NFS shares as the `sharenfs` property, so
 * replication carries them. Every step reads first, changes only what differs, and says what it
 * found and changed.
 */
import type { StorageHostRef } from '../hosts';

/** A disk chosen by exact name (c8t1d0, /dev/disk/by-id/..., a lab file) or by what it reports. */
export interface DiskSelector {
  disk?: string;
  model?: string;
  serial?: string;
  minBytes?: number;
  maxBytes?: number;
}

/** `disk`: a vdev of one disk (a stripe member, a lone log or cache device). */
export const VDEV_KINDS = ['disk', 'mirror', 'raidz', 'raidz2', 'raidz3'] as const;
export type VdevKind = (typeof VDEV_KINDS)[number];

export interface VdevSpec {
  kind: VdevKind;
  disks: DiskSelector[];
}

export interface PoolSpec {
  name: string;
  data: VdevSpec[];
  /** SLOG: single disks or mirrors. */
  log: VdevSpec[];
  /** L2ARC: single disks only. */
  cache: DiskSelector[];
  spares: DiskSelector[];
  /** Pool properties for `zpool create -o` (ashift, autoexpand, ...), as strings. */
  properties: Record<string, string>;
  /** Use disks that hold a label or belong to an exported pool (`zpool create -f`): the inventory's explicit choice. */
  force: boolean;
}

export interface ShareSpec {
  /** true: read-write for every client (the runbook's `rw`); false: read-only for all; a list: read-write for those names only. */
  rw: boolean | string[];
  /** Read-only clients (names). */
  ro: string[];
  /** Clients whose root stays root (`root=` on illumos, `no_root_squash` on Linux); root is squashed for the rest. */
  root: string[];
  nosuid: boolean;
}

export interface DatasetSpec {
  name: string;
  mountpoint?: string;
  /** ZFS properties (dedup, compression, recordsize, atime, quota...), never mountpoint or sharenfs. */
  properties: Record<string, string>;
  share?: ShareSpec;
}

export type NicRole = 'management' | 'storage' | 'other';

export interface NicSpec {
  /** The guest's interface name (e1000g0, eth1, ens224); absent: the guest's interfaces in order. */
  device?: string;
  /** CIDR, e.g. 10.0.1.41/24. */
  address: string;
  gateway?: string;
  /** management: the NIC the worker reaches the VM through (its address is ssh.address); storage: NFS and replication. */
  role: NicRole;
}

export interface RouteSpec {
  /** CIDR of the destination. */
  to: string;
  via: string;
}

export interface HostsEntry {
  address: string;
  names: string[];
}

export interface NetworkSpec {
  /** The VM's own name (its hostname and an /etc/hosts entry on its management address). */
  hostName: string;
  nics: NicSpec[];
  routes: RouteSpec[];
  dns?: { domain?: string; servers: string[] };
  /** The hypervisors' storage names (the runbook's vh1-nas ...) and the other storage VMs, as /etc/hosts lines. */
  hosts: HostsEntry[];
}

export interface ConfigureStorageInput {
  host: StorageHostRef;
  /**
   * Where the VM answers SSH now, when that is not yet its management address (the address its
   * installer or DHCP gave it, read from the VM's guest info): the last step moves it.
   */
  reachAt?: string;
  memoryGiB: number;
  network: NetworkSpec;
  pool: PoolSpec;
  datasets: DatasetSpec[];
}

/** What one step found and what it changed: empty `changed` means it found everything in place. */
export interface StepReport {
  found: string[];
  changed: string[];
  warnings: string[];
}

export const CONFIGURE_STEPS = [
  'checkGuestOs',
  'configureNetwork',
  'configureNameResolution',
  'createPool',
  'configureDatasets',
  'shareDatasets',
  'switchManagementAddress',
] as const;
export type ConfigureStep = (typeof CONFIGURE_STEPS)[number];

export interface ConfigureStorageResult {
  host: string;
  steps: { step: ConfigureStep; report: StepReport }[];
}
