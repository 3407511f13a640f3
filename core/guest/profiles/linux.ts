/** Linux with ZFS (OpenZFS on Debian/Ubuntu, and the lab's zfs-fuse). */
import type { GuestProfile } from '../profile';
import { parseDiskFiles, parseLsblk } from '../probe-parse';
import { parseExportfs } from '../storage/exports';

/** Files and block devices in a directory (`$1`), with their sizes: path TAB bytes. */
const DISK_DIRECTORY_LISTING = `for f in "$1"/*; do
  if [ -b "$f" ]; then printf '%s\\t%s\\n' "$f" "$(blockdev --getsize64 "$f")";
  elif [ -f "$f" ]; then printf '%s\\t%s\\n' "$f" "$(stat -c %s "$f")"; fi
done`;

export const linux: GuestProfile = {
  os: 'linux',
  zfs: 'zfs',
  zpool: 'zpool',
  firstRegularUid: 1000,
  createKeyOnlyUser: (user) => [
    { argv: ['useradd', '-m', '-s', '/bin/sh', '-c', 'esxi-zfs replication', user], change: `created user ${user}` },
    { argv: ['usermod', '-p', '*', user], change: `${user}: password '*' (no password, not locked): key login only` },
  ],
  // '!' locks the account: with UsePAM no, sshd then refuses its key too.
  unlockKeyLogin: (user, password) =>
    password?.startsWith('!')
      ? { argv: ['usermod', '-p', '*', user], change: `${user}: was locked ('${password.slice(0, 2)}'): set '*' so sshd (UsePAM no) lets its key log in` }
      : undefined,
  growablePipes: true,
  rpcinfo: 'rpcinfo',
  exportTable: { argv: ['exportfs', '-v'], parse: parseExportfs },
  diskListings: (diskDirectory) => [
    { argv: ['lsblk', '-b', '-d', '-n', '-P', '-o', 'NAME,SIZE,MODEL,TYPE'], parse: parseLsblk },
    ...(diskDirectory
      ? [{ argv: ['sh', '-c', DISK_DIRECTORY_LISTING, 'sh', diskDirectory], parse: parseDiskFiles }]
      : []),
  ],
};
