/**
 * What the storage half of configureStorage reads on each OS, as data and small builders: the
 * read commands (argv arrays: quoting is the transport's job) and the parsers for their output.
 * The planners are the same for both; only these differ.
 *
 * An activity reads, in order:
 *   1. poolStatus: `zpool status` → parsePoolStatus (every imported pool's layout)
 *   2. diskListing(diskDirectory) → parseDiskListing
 *   3. labelProbe(listed) → parseLabelProbe
 * then assembleDisks(listed, labels, layouts, os.wholeDiskName) gives the GuestDisk[] that
 * resolveDisks takes.
 */
import type { OsProfile } from '../../hosts';
import type { ListedDisk, WholeDiskName } from './guest-disk';
import { ILLUMOS_DISK_LISTING, ILLUMOS_LABEL_PROBE, illumosWholeDiskName, parseIllumosDiskListing, parseIllumosLabelProbe } from './illumos-disks';
import { parseLabelProbe, type ProbedLabels } from './labels';
import { LINUX_DISK_LISTING, LINUX_LABEL_PROBE, linuxWholeDiskName, parseLinuxDiskListing } from './linux-disks';

export interface StorageOs {
  os: OsProfile;
  /** The disks, their sizes, models, serials and other names; on Linux also `diskDirectory`'s files. */
  diskListing(diskDirectory?: string): string[];
  parseDiskListing(output: string): ListedDisk[];
  /** What each listed disk holds (ZFS labels; filesystems and partition tables on Linux). */
  labelProbe(disks: readonly ListedDisk[]): string[];
  parseLabelProbe(output: string): Map<string, ProbedLabels>;
  wholeDiskName: WholeDiskName;
}

const script = (text: string, args: readonly string[]) => ['sh', '-c', text, 'sh', ...args];

export const storageCommands: Record<OsProfile, StorageOs> = {
  linux: {
    os: 'linux',
    diskListing: (diskDirectory) => script(LINUX_DISK_LISTING, diskDirectory ? [diskDirectory] : []),
    parseDiskListing: parseLinuxDiskListing,
    labelProbe: (disks) => script(LINUX_LABEL_PROBE, disks.map((d) => d.name)),
    parseLabelProbe,
    wholeDiskName: linuxWholeDiskName,
  },
  illumos: {
    os: 'illumos',
    diskListing: () => script(ILLUMOS_DISK_LISTING, []),
    parseDiskListing: parseIllumosDiskListing,
    labelProbe: (disks) => script(ILLUMOS_LABEL_PROBE, disks.map((d) => d.name)),
    parseLabelProbe: parseIllumosLabelProbe,
    wholeDiskName: illumosWholeDiskName,
  },
};

/** Every imported pool's layout, and so which pool each device belongs to. "no pools available" exits 0. */
export const poolStatusRead = (zpool: string): string[] => [zpool, 'status'];

/**
 * Whether a name resolves on the guest (`getent hosts` on both: illumos and glibc read
 * /etc/hosts, then DNS, by nsswitch.conf): exit 0 and an `ADDRESS NAME...` line when it does,
 * exit 2 and nothing when it does not.
 */
export const resolveNameRead = (name: string): string[] => ['getent', 'hosts', name];

/** The addresses `getent hosts NAME` printed (none: the name does not resolve). */
export function parseGetentHosts(output: string): string[] {
  return output.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((a) => a !== '');
}
