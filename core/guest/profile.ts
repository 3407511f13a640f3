/**
 * What differs between the storage VMs' operating systems, as one strategy per OS profile
 * (profiles/illumos.ts, profiles/linux.ts): binaries, accounts and their homes, disk listings, and
 * the network, disk, pool and NFS steps to come. Everything is an argv or data (quoted by the
 * transport), so a profile that cannot run here (illumos) is checked as data in golden tests.
 * Capabilities a host may or may not have (`zfs allow` delegation) are detected, not read from here.
 */
import type { OsProfile } from '../hosts';
import type { Disk } from './probe-parse';
import { illumos } from './profiles/illumos';
import { linux } from './profiles/linux';

/** A command a plan runs, and what it changes, in words. */
export interface PlannedCommand {
  argv: string[];
  change: string;
}

export interface DiskListing {
  argv: string[];
  parse(output: string): Disk[];
}

export interface GuestProfile {
  os: OsProfile;
  zfs: string;
  zpool: string;
  /** A user who logs in by key only: created with a shell and a home (the OS's usual place), with no usable password. */
  createKeyOnlyUser(user: string): PlannedCommand[];
  /** The command that turns a locked password (which stops key logins) into "no password", if `password` is locked. */
  unlockKeyLogin(user: string, password: string | undefined): PlannedCommand | undefined;
  /** Accounts below this uid are the OS's own: 1000 on Linux (Debian's 100-999 are system), 100 on illumos. */
  firstRegularUid: number;
  /** Linux pipes can be grown (F_SETPIPE_SZ): the receive guard does so for its stdin. */
  growablePipes: boolean;
  /** Asks an RPC service for an answer (`rpcinfo -n PORT -t ADDRESS PROGRAM VERSION`). */
  rpcinfo: string;
  /** The NFS server's live export table, and the exported paths in its output. */
  exportTable: { argv: string[]; parse(output: string): string[] };
  diskListings(diskDirectory?: string): DiskListing[];
}

export function guestProfile(os: OsProfile): GuestProfile {
  return os === 'illumos' ? illumos : linux;
}
