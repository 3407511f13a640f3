/**
 * What the lab reads from the kernel: the mount table (its own and a host's), namespaces of
 * processes, links and routes; and the two changes made from what is read: unmounting mounts and
 * stopping processes. Commands run through exec.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { HOST_ENV, must, run } from './exec';

// ---------------------------------------------------------------------------------------------
// Mounts

export interface MountEntry {
  id: number;
  parent: number;
  /** The root of the mount within its filesystem; for nsfs, like "mnt:[4026532177]". */
  root: string;
  mountPoint: string;
  fsType: string;
}

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function mountTable(file = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountTable(readFileSync(file, 'utf8'));
}

/** The entries of a mountinfo text, in its order. */
function parseMountTable(mountinfo: string): MountEntry[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left, right = ''] = line.split(' - ');
      const f = (left ?? '').split(' ');
      return {
        id: Number(f[0]),
        parent: Number(f[1]),
        root: unescape(f[3] ?? ''),
        mountPoint: unescape(f[4] ?? ''),
        fsType: right.split(' ')[0] ?? '',
      };
    });
}

export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** Mounts at or below dir in this mount namespace, deepest (most recently stacked) first. */
export function mountsUnder(dir: string, table = mountTable()): MountEntry[] {
  return table
    .filter((m) => isUnder(m.mountPoint, dir))
    .sort((a, b) => b.mountPoint.split('/').length - a.mountPoint.split('/').length || b.id - a.id);
}

/** The namespace inode a bind-mounted nsfs file stands for, or undefined when it is not mounted. */
export function nsFileInode(file: string, table = mountTable()): number | undefined {
  const entry = [...table].reverse().find((m) => m.mountPoint === file && m.fsType === 'nsfs');
  const match = entry && /\[(\d+)\]/.exec(entry.root);
  return match ? Number(match[1]) : undefined;
}

/** Unmounts everything at or below dir (deepest first); lazily when a plain unmount is refused. */
export async function unmountUnder(dir: string): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) return;
    for (const m of mounts) {
      const plain = await run('umount', [m.mountPoint]);
      if (plain.code !== 0) await run('umount', ['-l', m.mountPoint]);
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`cannot unmount ${left.map((m) => m.mountPoint).join(', ')}`);
}

/** The mounts a persistent mount namespace holds (read from inside it), deepest first. */
export async function mountsInNamespace(mountNs: string): Promise<MountEntry[]> {
  const mountinfo = await must('nsenter', [`--mount=${mountNs}`, '--', 'cat', '/proc/self/mountinfo'], { env: HOST_ENV });
  return parseMountTable(mountinfo).sort((a, b) => b.mountPoint.split('/').length - a.mountPoint.split('/').length);
}

/** Lazily unmounts each mount point inside a persistent mount namespace, in the order given. */
export async function unmountInNamespace(mountNs: string, mountPoints: string[]): Promise<void> {
  for (const mp of mountPoints) await run('nsenter', [`--mount=${mountNs}`, '--', 'umount', '-l', mp]);
}

// ---------------------------------------------------------------------------------------------
// Processes

export type NsKind = 'mnt' | 'net' | 'uts';

export function processNs(pid: number, kind: NsKind): number | undefined {
  try {
    const match = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${kind}`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** True for a live process (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function processExe(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Every process in any of the given namespaces (by inode), except this one. */
export function pidsInNamespaces(inodes: { mnt?: Iterable<number>; net?: Iterable<number>; uts?: Iterable<number> }): number[] {
  const sets = {
    mnt: new Set(inodes.mnt ?? []),
    net: new Set(inodes.net ?? []),
    uts: new Set(inodes.uts ?? []),
  };
  if (sets.mnt.size + sets.net.size + sets.uts.size === 0) return [];
  return allPids().filter((pid) => {
    if (pid === process.pid) return false;
    return (['mnt', 'net', 'uts'] as const).some((kind) => {
      if (sets[kind].size === 0) return false;
      const ino = processNs(pid, kind);
      return ino !== undefined && sets[kind].has(ino);
    });
  });
}

/** SIGTERM, wait, then SIGKILL what is left, and wait until every pid is gone. */
export async function terminate(pids: number[], graceMs = 8000): Promise<number[]> {
  const signal = (list: number[], sig: NodeJS.Signals) => {
    for (const pid of list) {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  const waitGone = async (list: number[], ms: number) => {
    const deadline = Date.now() + ms;
    let left = list.filter(isAlive);
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(25);
      left = left.filter(isAlive);
    }
    return left;
  };
  signal(pids, 'SIGTERM');
  let left = await waitGone(pids, graceMs);
  if (left.length > 0) {
    signal(left, 'SIGKILL');
    left = await waitGone(left, 5000);
  }
  return left;
}

// ---------------------------------------------------------------------------------------------
// Network

export interface LinkInfo {
  ifname: string;
  ifalias?: string;
  linkinfo?: { info_kind?: string };
}

export async function links(): Promise<LinkInfo[]> {
  return JSON.parse((await must('ip', ['-j', '-d', 'link', 'show'])) || '[]') as LinkInfo[];
}

export function netnsNames(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

export function parseCidr(value: string): [number, number] {
  const [address = '', bits = '32'] = value.split('/');
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) throw new Error(`not an IPv4 address: ${value}`);
  const ip = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const len = Number(bits);
  const size = 2 ** (32 - len);
  const start = Math.floor(ip / size) * size;
  return [start, start + size - 1];
}

export function overlaps(a: string, b: string): boolean {
  const [a0, a1] = parseCidr(a);
  const [b0, b1] = parseCidr(b);
  return a0 <= b1 && b0 <= a1;
}

/** Every IPv4 prefix the machine routes or owns, except the default route. */
export async function usedPrefixes(): Promise<{ prefix: string; dev?: string }[]> {
  const routes = JSON.parse((await must('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])) || '[]') as { dst: string; dev?: string }[];
  const addrs = JSON.parse((await must('ip', ['-j', '-4', 'addr', 'show'])) || '[]') as {
    ifname: string;
    addr_info?: { local: string; prefixlen: number }[];
  }[];
  const out: { prefix: string; dev?: string }[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default' || r.dst === '0.0.0.0/0') continue;
    if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(r.dst)) continue;
    out.push({ prefix: r.dst, dev: r.dev });
  }
  for (const a of addrs) for (const i of a.addr_info ?? []) out.push({ prefix: `${i.local}/${i.prefixlen}`, dev: a.ifname });
  return out;
}
