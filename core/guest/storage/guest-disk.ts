/**
 * The disks a storage VM could build its pool from, as one list whatever the OS: the listing
 * (lsblk and a disk directory on Linux, format and iostat on illumos), what each holds (labels.ts)
 * and which imported pool uses it (`zpool status`, pool-layout.ts).
 */
import { describeLabels, type ProbedLabels } from './labels';
import { layoutDevices, type PoolLayout } from './pool-layout';

export interface ListedDisk {
  /** The name the OS lists it by: c8t1d0 on illumos; /dev/sdb or a file's path on Linux. */
  name: string;
  /** Other names of the same disk: its /dev/disk/by-id links on Linux, /dev/dsk/c8t1d0 on illumos. */
  aliases: string[];
  sizeBytes: number;
  model?: string;
  serial?: string;
  /** ZFS takes a plain file as a data, log or spare vdev but never as a cache device. */
  kind: 'block' | 'file';
  /** What the listing itself saw on it (lsblk's FSTYPE, PTTYPE, partitions). */
  label?: string;
  /** Why it may never be used, force or not: it or one of its partitions is mounted or swap. */
  inUse?: string;
}

export interface GuestDisk extends ListedDisk {
  /** The imported pool it is a vdev of (data, log, cache or spare). */
  pool?: string;
  /** What it holds when it is in no imported pool: a ZFS label, a filesystem, a partition table. */
  label?: string;
}

/** Turns a name `zpool status` prints for a whole-disk vdev into the disk's own (c8t1d0s0 → c8t1d0, sdb1 → sdb). */
export type WholeDiskName = (printed: string) => string;

/** The names ZFS may print for a disk: its name and aliases, and their last part for those under /dev/. */
function printedForms(disk: ListedDisk): Set<string> {
  const names = [disk.name, ...disk.aliases];
  return new Set([...names, ...names.filter((n) => n.startsWith('/dev/')).map((n) => n.slice(n.lastIndexOf('/') + 1))]);
}

/** Whether `printed` (a device as `zpool status` shows it) is `disk`. */
export function isDevice(printed: string, disk: ListedDisk, wholeDiskName: WholeDiskName): boolean {
  const forms = printedForms(disk);
  return forms.has(printed) || forms.has(wholeDiskName(printed));
}

/** The disk `printed` names, if it is one of `disks`. */
export function findDevice<D extends ListedDisk>(printed: string, disks: readonly D[], wholeDiskName: WholeDiskName): D | undefined {
  return disks.find((d) => printedForms(d).has(printed)) ?? disks.find((d) => isDevice(printed, d, wholeDiskName));
}

/** The imported pool each listed disk belongs to, by the pools' layouts. */
export function poolOwners(listed: readonly ListedDisk[], pools: readonly PoolLayout[], wholeDiskName: WholeDiskName): Map<ListedDisk, string> {
  const owner = new Map<ListedDisk, string>();
  for (const pool of pools) {
    for (const printed of layoutDevices(pool)) {
      const disk = findDevice(printed, listed, wholeDiskName);
      if (disk) owner.set(disk, pool.name);
    }
  }
  return owner;
}

/**
 * The listed disks whose labels matter: those that could join a pool, outside the imported pools
 * and not in use otherwise (mounted, swap, held by device-mapper), which resolveDisks never chooses.
 */
export function disksToProbe(listed: readonly ListedDisk[], pools: readonly PoolLayout[], wholeDiskName: WholeDiskName): ListedDisk[] {
  const owners = poolOwners(listed, pools, wholeDiskName);
  return listed.filter((d) => !owners.has(d) && d.inUse === undefined);
}

/** A disk of an imported pool is that pool's: its labels are not read (`probed` may leave it out). */
export function assembleDisks(
  listed: readonly ListedDisk[],
  probed: ReadonlyMap<string, ProbedLabels>,
  pools: readonly PoolLayout[],
  wholeDiskName: WholeDiskName,
): GuestDisk[] {
  const owner = poolOwners(listed, pools, wholeDiskName);
  return listed.map((disk) => {
    const pool = owner.get(disk);
    const { label: listedLabel, ...rest } = disk;
    const label = pool === undefined ? describeLabels(probed.get(disk.name) ?? {}, listedLabel) : undefined;
    return { ...rest, ...(pool !== undefined ? { pool } : {}), ...(label !== undefined ? { label } : {}) };
  });
}
