/**
 * The lab dir's records and its lock: state.json (LabState, written last: its presence means
 * "built"), build.json (what has been created so far, for cleaning up a crash), the marker that
 * makes a dir deletable by labDown, and one labUp/labDown per lab dir at a time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive } from './sys';

export interface LabDisk {
  /** As seen inside the host, e.g. /srv/disks/c8t1d0. */
  path: string;
  sizeBytes: number;
  /** 'spare': a disk no pool of the inventory uses, for `zpool add POOL spare` or a replacement. */
  role: 'data' | 'log' | 'cache' | 'spare';
  /** 'file': a sparse file; 'block': a block device node for a loop device over a sparse file. */
  kind: 'file' | 'block';
  /** For 'block': the sparse file behind the loop device (root namespace path) and the device. */
  backingFile?: string;
  loopDevice?: string;
}

export interface LabHostState {
  name: string;
  address: string;
  netns: string;
  mountNs: string;
  root: string;
  hostKey: string;
  fingerprint: string;
  pids: { sshd: number; zfsFuse: number };
  disks: LabDisk[];
  /** The file keeping the host's UTS namespace (its own `hostname`) alive. */
  utsNs: string;
  /** Root-namespace end of the host's veth pair (its other end is eth0 in the host). */
  veth: string;
  /** Root-namespace end of the veth whose other end is eth1 in the host, on the storage bridge. */
  storageVeth: string;
  /** The address the lab inventory asks configureStorage to give eth1; the lab never configures it. */
  storageAddress: string;
  /** Namespace inodes, to recognise the host's processes. */
  ns: { mnt: number; uts: number; net: number };
  logs: { sshd: string; zfsFuse: string };
}

export interface LabState {
  dir: string;
  bridge: string;
  gateway: string;
  subnet: string;
  privateKeyFile: string;
  hosts: LabHostState[];
  inventoryFile: string;
  /** The I in ezlab<I> / 10.213.<I>.0/24. */
  index: number;
  netnsPrefix: string;
  /** known_hosts with every host's pinned key, for `ssh -o UserKnownHostsFile=`. */
  knownHostsFile: string;
  /** The storage network: bridge ezsan<I>, 10.214.<I>.0/24, no address on this machine. */
  storageBridge: string;
  storageSubnet: string;
  /** ESXi host vh<j+1>'s vmkernel NFS client for lab host j, in the host order. */
  hypervisors: LabStorageClient[];
  /** A storage-network address on no access list. */
  outsider: LabStorageClient;
  createdAt: string;
}

/** A network namespace with one NIC (vmk1) on the storage bridge. */
export interface LabStorageClient {
  /** 'vh1', 'vh2', ... or 'outsider'. */
  name: string;
  netns: string;
  address: string;
  /** Root-namespace end of its veth. */
  veth: string;
}

/** What build.json holds: the claimed network index and the hosts started so far. */
export interface BuildRecord {
  index: number;
  hosts: string[];
}

export const DEFAULT_LAB_DIR = path.resolve(__dirname, '..', '.data', 'lab');
/** Only a dir holding this file is ever deleted by labDown. */
export const MARKER = '.esxi-zfs-lab';

export const statePath = (dir: string) => path.join(dir, 'state.json');
export const buildPath = (dir: string) => path.join(dir, 'build.json');

export function resolveDir(dir?: string): string {
  const resolved = path.resolve(dir ?? DEFAULT_LAB_DIR);
  if (resolved === '/' || resolved.split('/').length < 3) throw new Error(`refusing to use ${resolved} as a lab dir`);
  return resolved;
}

export function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

export function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** Locking: one labUp/labDown per lab dir at a time, across processes (a lock file beside the dir). */
export async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: number;
      let ageMs: number;
      try {
        holder = Number(fs.readFileSync(lock, 'utf8').trim());
        ageMs = Date.now() - fs.statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      // An empty lock file is one being written right now, unless it has been empty for long.
      const stale = Number.isInteger(holder) && holder > 0 ? !isAlive(holder) : ageMs > 5000;
      if (stale) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the lab in ${dir} is locked by pid ${holder} (${lock})`, { cause: error });
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
