/**
 * The commands a storage VM runs, per OS profile. Each is an argv (quoted by the SSH layer), so the
 * same plan can be checked as data in tests where the OS itself cannot run (illumos).
 */
import type { OsProfile } from '../hosts';
import { parseDiskFiles, parseIllumosFormat, parseLsblk, type Disk } from './probe-parse';

export interface DiskListing {
  argv: string[];
  parse(output: string): Disk[];
}

export interface GuestProfile {
  os: OsProfile;
  zfs: string;
  zpool: string;
  diskListings(diskDirectory?: string): DiskListing[];
}

/** Files and block devices in a directory (`$1`), with their sizes: path TAB bytes. */
const DISK_DIRECTORY_LISTING = `for f in "$1"/*; do
  if [ -b "$f" ]; then printf '%s\\t%s\\n' "$f" "$(blockdev --getsize64 "$f")";
  elif [ -f "$f" ]; then printf '%s\\t%s\\n' "$f" "$(stat -c %s "$f")"; fi
done`;

const illumos: GuestProfile = {
  os: 'illumos',
  zfs: '/usr/sbin/zfs',
  zpool: '/usr/sbin/zpool',
  // `format` reads its disk selection from stdin: with /dev/null it lists and exits.
  diskListings: () => [{ argv: ['sh', '-c', 'format </dev/null'], parse: parseIllumosFormat }],
};

const linux: GuestProfile = {
  os: 'linux',
  zfs: 'zfs',
  zpool: 'zpool',
  diskListings: (diskDirectory) => [
    { argv: ['lsblk', '-b', '-d', '-n', '-P', '-o', 'NAME,SIZE,MODEL,TYPE'], parse: parseLsblk },
    ...(diskDirectory
      ? [{ argv: ['sh', '-c', DISK_DIRECTORY_LISTING, 'sh', diskDirectory], parse: parseDiskFiles }]
      : []),
  ],
};

export function guestProfile(os: OsProfile): GuestProfile {
  return os === 'illumos' ? illumos : linux;
}
