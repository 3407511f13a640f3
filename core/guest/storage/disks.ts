/**
 * Which disk each of a pool spec's selectors means, or why none may be used.
 *
 * Invariants:
 * 1. Every selector means exactly one disk. None, or several that could be used, is a conflict
 *    naming the selector's inventory path and the disks the operator could have meant.
 * 2. A disk is chosen once: two selectors meaning the same disk is a conflict.
 * 3. A disk in an imported pool other than this one is never used, force or not; neither is a disk
 *    in use by the OS (mounted, swap). Selectors by model, serial or size look past such disks,
 *    so "the 256 GB disk" means the free one.
 * 4. A disk holding a label (a stray ZFS label, a filesystem, a partition table) is used only
 *    with `pool.force`; the plan then says `zpool create -f` (pool-plan.ts).
 * 5. A cache device is a block device: ZFS refuses a plain file there.
 * 6. Every conflict is reported, not only the first.
 */
import type { DiskSelector, PoolSpec, VdevKind, VdevSpec } from '../../configure/shared';
import { formatBytes } from '../../format';
import { shown } from '../../show';
import type { GuestDisk } from './guest-disk';

export interface ResolvedDisk {
  /** The selector's place in the inventory: `pool.data[1].mirror[0]`. */
  path: string;
  disk: GuestDisk;
  /** The name the pool is built with: the selector's own `disk`, else a /dev/disk/by-id link, else the disk's name. */
  device: string;
}

export interface ResolvedVdev {
  kind: VdevKind;
  path: string;
  disks: ResolvedDisk[];
}

export interface ResolvedPool {
  data: ResolvedVdev[];
  log: ResolvedVdev[];
  cache: ResolvedDisk[];
  spares: ResolvedDisk[];
}

interface Conflict<T extends string> {
  type: T;
  /** The inventory path of the selector, and what to do, in one sentence. */
  message: string;
}

export type DiskConflict =
  | (Conflict<'NoDiskMatches'> & { path: string; selector: DiskSelector; near: GuestDisk[]; taken: GuestDisk[] })
  | (Conflict<'SeveralDisksMatch'> & { path: string; selector: DiskSelector; candidates: GuestDisk[] })
  | (Conflict<'DiskChosenTwice'> & { disk: GuestDisk; paths: string[] })
  | (Conflict<'DiskInAnotherPool'> & { path: string; disk: GuestDisk; pool: string })
  | (Conflict<'DiskInUse'> & { path: string; disk: GuestDisk; what: string })
  | (Conflict<'DiskHoldsLabel'> & { path: string; disk: GuestDisk; what: string })
  | (Conflict<'CacheNotBlockDevice'> & { path: string; disk: GuestDisk });

export type DiskResolution = ({ ok: true } & ResolvedPool) | { ok: false; conflicts: DiskConflict[] };

const MIN_DISKS: Record<VdevKind, number> = { disk: 1, mirror: 2, raidz: 2, raidz2: 3, raidz3: 4 };

/** What is wrong with a vdev's shape, for the inventory's checks; undefined when ZFS accepts it. */
export function vdevSpecProblem(vdev: VdevSpec, role: 'data' | 'log'): string | undefined {
  if (role === 'log' && vdev.kind !== 'disk' && vdev.kind !== 'mirror') return `a log vdev is one disk or a mirror, not ${vdev.kind}`;
  if (vdev.kind === 'disk' && vdev.disks.length !== 1) return 'a disk vdev has exactly one disk';
  if (vdev.disks.length < MIN_DISKS[vdev.kind]) return `a ${vdev.kind} needs at least ${MIN_DISKS[vdev.kind]} disks`;
  return undefined;
}

/** `pool.data[0]` for a one-disk vdev, `pool.data[1].mirror[0]` for a member of a group. */
export function selectorPath(at: string, role: 'data' | 'log', index: number, vdev: VdevSpec, member: number): string {
  return vdev.kind === 'disk' ? `${at}.${role}[${index}]` : `${at}.${role}[${index}].${vdev.kind}[${member}]`;
}

const words = (text: string) => ` ${text.toLowerCase().replace(/[\s_-]+/g, ' ').trim()} `;

function criteria(selector: DiskSelector): ((disk: GuestDisk) => boolean)[] {
  const tests: ((disk: GuestDisk) => boolean)[] = [];
  const { disk, model, serial, minBytes, maxBytes } = selector;
  if (disk !== undefined) tests.push((d) => d.name === disk || d.aliases.includes(disk));
  // "DDRDRIVE-X1" means format's DDRDRIVE-X1-0030 and iostat's "DDRDRIVE X1", never "X10".
  if (model !== undefined) tests.push((d) => d.model !== undefined && words(d.model).includes(words(model)));
  if (serial !== undefined) tests.push((d) => d.serial === serial.trim());
  if (minBytes !== undefined) tests.push((d) => d.sizeBytes >= minBytes);
  if (maxBytes !== undefined) tests.push((d) => d.sizeBytes <= maxBytes);
  return tests;
}

export function describeSelector(selector: DiskSelector): string {
  const parts: string[] = [];
  if (selector.disk !== undefined) parts.push(`disk ${shown(selector.disk)}`);
  if (selector.model !== undefined) parts.push(`model ${shown(selector.model)}`);
  if (selector.serial !== undefined) parts.push(`serial ${shown(selector.serial)}`);
  if (selector.minBytes !== undefined) parts.push(`at least ${formatBytes(selector.minBytes)}`);
  if (selector.maxBytes !== undefined) parts.push(`at most ${formatBytes(selector.maxBytes)}`);
  return parts.length > 0 ? parts.join(', ') : 'any disk';
}

export function describeDisk(disk: GuestDisk): string {
  const facts = [formatBytes(disk.sizeBytes), disk.model, disk.serial && `serial ${disk.serial}`].filter(Boolean);
  return `${disk.name} (${facts.join(', ')})`;
}

/** Why a disk can never be part of `pool` (invariant 3), or undefined. */
function takenBecause(disk: GuestDisk, pool: string): string | undefined {
  if (disk.pool !== undefined && disk.pool !== pool) return `in imported pool ${disk.pool}`;
  return disk.inUse;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The free disks closest to what a selector asked for: most criteria met, then the closest name, then the closest size. */
function nearest(selector: DiskSelector, free: readonly GuestDisk[]): GuestDisk[] {
  const tests = criteria(selector);
  const wanted = selector.minBytes ?? selector.maxBytes;
  const score = (d: GuestDisk) => ({
    met: tests.filter((t) => t(d)).length,
    name: selector.disk === undefined ? 0 : Math.max(...[d.name, ...d.aliases].map((n) => commonPrefix(n, selector.disk!))),
    size: wanted === undefined ? 0 : Math.abs(d.sizeBytes - wanted),
  });
  return free
    .map((d) => ({ d, s: score(d) }))
    .sort((a, b) => b.s.met - a.s.met || b.s.name - a.s.name || a.s.size - b.s.size || a.d.name.localeCompare(b.d.name))
    .slice(0, 3)
    .map(({ d }) => d);
}

/** A stable name for a disk chosen by what it reports: by-id names survive reboots and re-cabling; wwn- ones read worst. */
function stableName(disk: GuestDisk): string {
  const byId = disk.aliases.filter((a) => a.startsWith('/dev/disk/by-id/') && !/-part\d+$/.test(a)).sort();
  return byId.find((a) => !a.startsWith('/dev/disk/by-id/wwn-')) ?? byId[0] ?? disk.name;
}

type Role = 'data' | 'log' | 'cache' | 'spare';

export function resolveDisks(pool: PoolSpec, disks: readonly GuestDisk[], opts: { at?: string } = {}): DiskResolution {
  const at = opts.at ?? 'pool';
  const conflicts: DiskConflict[] = [];
  const chosenBy = new Map<GuestDisk, string[]>();
  const usable = disks.filter((d) => takenBecause(d, pool.name) === undefined);

  const resolve = (selector: DiskSelector, path: string, role: Role): ResolvedDisk | undefined => {
    const tests = criteria(selector);
    const candidates = disks.filter((d) => tests.every((t) => t(d)));
    const eligible = candidates.filter((d) => takenBecause(d, pool.name) === undefined);
    const what = describeSelector(selector);
    if (eligible.length > 1) {
      conflicts.push({
        type: 'SeveralDisksMatch', path, selector, candidates: eligible,
        message: `${path}: ${what} matches ${eligible.length} disks: ${eligible.map(describeDisk).join('; ')}: add its serial, or name it by disk`,
      });
      return undefined;
    }
    const [disk] = eligible;
    if (!disk) {
      const [only] = candidates;
      if (candidates.length === 1 && only!.pool !== undefined && only!.pool !== pool.name) {
        conflicts.push({
          type: 'DiskInAnotherPool', path, disk: only!, pool: only!.pool,
          message: `${path}: ${describeDisk(only!)} is in imported pool ${only!.pool}: a disk of an imported pool is never taken, force or not: choose another disk`,
        });
      } else if (candidates.length === 1) {
        conflicts.push({
          type: 'DiskInUse', path, disk: only!, what: only!.inUse!,
          message: `${path}: ${describeDisk(only!)} is in use (${only!.inUse}): it can never be part of a pool: choose another disk`,
        });
      } else {
        const near = candidates.length > 0 ? [] : nearest(selector, usable.filter((d) => !chosenBy.has(d)));
        const reasons = candidates.map((d) => `${d.name} (${takenBecause(d, pool.name)})`);
        conflicts.push({
          type: 'NoDiskMatches', path, selector, near, taken: candidates,
          message: candidates.length > 0
            ? `${path}: ${what} matches only disks that are taken: ${reasons.join('; ')}`
            : `${path}: no disk matches ${what}: ${near.length > 0 ? `nearest ${near.map(describeDisk).join('; ')}` : 'the VM lists no free disk'}`,
        });
      }
      return undefined;
    }
    chosenBy.set(disk, [...(chosenBy.get(disk) ?? []), path]);
    if (disk.label !== undefined && !pool.force) {
      conflicts.push({
        type: 'DiskHoldsLabel', path, disk, what: disk.label,
        message: `${path}: ${describeDisk(disk)} holds ${disk.label}: choose another disk, or set the pool's force: true to overwrite it (zpool create -f)`,
      });
    }
    if (role === 'cache' && disk.kind === 'file') {
      conflicts.push({
        type: 'CacheNotBlockDevice', path, disk,
        message: `${path}: ${disk.name} is a plain file and ZFS takes only a block device as a cache device ("cache device must be a disk or disk slice"): choose a disk`,
      });
    }
    return { path, disk, device: selector.disk ?? stableName(disk) };
  };

  const vdevs = (role: 'data' | 'log'): ResolvedVdev[] =>
    pool[role].map((vdev, i) => {
      const problem = vdevSpecProblem(vdev, role);
      if (problem) throw new Error(`${at}.${role}[${i}]: ${problem} (the inventory's checks let it through)`);
      const members = vdev.disks.map((s, j) => resolve(s, selectorPath(at, role, i, vdev, j), role));
      return { kind: vdev.kind, path: `${at}.${role}[${i}]`, disks: members.filter((m) => m !== undefined) };
    });
  const data = vdevs('data');
  const log = vdevs('log');
  const cache = pool.cache.map((s, k) => resolve(s, `${at}.cache[${k}]`, 'cache')).filter((d) => d !== undefined);
  const spares = pool.spares.map((s, k) => resolve(s, `${at}.spares[${k}]`, 'spare')).filter((d) => d !== undefined);

  for (const [disk, paths] of chosenBy) {
    if (paths.length > 1) {
      conflicts.push({
        type: 'DiskChosenTwice', disk, paths,
        message: `${describeDisk(disk)} is chosen by ${paths.join(' and ')}: a disk can be in one vdev only`,
      });
    }
  }
  return conflicts.length > 0 ? { ok: false, conflicts } : { ok: true, data, log, cache, spares };
}
