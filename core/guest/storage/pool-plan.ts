/**
 * The pool: created when absent, completed with the log, cache and spare devices the spec adds,
 * and otherwise left alone.
 *
 * Invariants:
 * 1. Layouts are compared by disk, not by the name printed: `zpool status` shows c8t1d0 for
 *    /dev/dsk/c8t1d0, sdb for /dev/sdb, ata-... for /dev/disk/by-id/ata-..., and a whole disk's
 *    partition or slice (sdb1, c8t0d0s0) for the disk; each printed name is mapped to the
 *    resolved disk it names. The order of vdevs, and of disks within a vdev, does not matter.
 * 2. An existing pool is only ever added to: `zpool add` of a log, cache or spare device the spec
 *    has and the pool lacks. Any other difference (data vdevs, a device swapped, a log or cache
 *    device the spec does not have) is PoolLayoutDiffers, with both layouts, and no command.
 * 3. `-f` only with the spec's `force` and only when a disk in the command holds a label
 *    (disks.ts, invariant 4): where we saw nothing, ZFS's own in-use checks stay in force.
 */
import type { PoolSpec } from '../../configure/shared';
import type { OsProfile } from '../../hosts';
import type { PlannedCommand } from '../profile';
import type { ResolvedDisk, ResolvedPool, ResolvedVdev } from './disks';
import { findDevice } from './guest-disk';
import { storageCommands } from './os';
import { describeLayout, type LayoutVdev, type PoolLayout } from './pool-layout';

/** What a planner found, and the commands that make the guest match the spec, each saying what it changes. */
export interface StoragePlan {
  commands: PlannedCommand[];
  found: string[];
  warnings: string[];
}

export interface PoolLayoutDiffers {
  type: 'PoolLayoutDiffers';
  pool: string;
  /** Both in disk names (c8t1d0, /dev/sdb, a file's path); devices that are none of the resolved disks as printed. */
  expected: PoolLayout;
  found: PoolLayout;
  message: string;
}

export type PoolPlan = ({ ok: true } & StoragePlan) | { ok: false; conflict: PoolLayoutDiffers };

const vdevLayout = (v: ResolvedVdev): LayoutVdev => ({ kind: v.kind, devices: v.disks.map((d) => d.disk.name) });

/** The layout the spec asks for, in the disks' own names. */
export function expectedLayout(name: string, resolved: ResolvedPool): PoolLayout {
  return {
    name,
    data: resolved.data.map(vdevLayout),
    log: resolved.log.map(vdevLayout),
    cache: resolved.cache.map((d) => d.disk.name),
    spares: resolved.spares.map((d) => d.disk.name),
    special: [],
  };
}

/** `layout` with each printed device replaced by the name of the resolved disk it is (invariant 1). */
export function inDiskNames(layout: PoolLayout, resolved: ResolvedPool, os: OsProfile): PoolLayout {
  const disks = [...resolved.data, ...resolved.log].flatMap((v) => v.disks).concat(resolved.cache, resolved.spares).map((r) => r.disk);
  const { wholeDiskName } = storageCommands[os];
  const name = (printed: string) => findDevice(printed, disks, wholeDiskName)?.name ?? printed;
  const vdev = (v: LayoutVdev): LayoutVdev => ({ kind: v.kind, devices: v.devices.map(name) });
  return {
    name: layout.name,
    data: layout.data.map(vdev),
    log: layout.log.map(vdev),
    cache: layout.cache.map(name),
    spares: layout.spares.map(name),
    special: layout.special.map(vdev),
  };
}

const vdevKey = (v: LayoutVdev) => `${v.kind}(${[...v.devices].sort().join(',')})`;

/** What `wanted` has beyond `have` (multisets), or undefined when `have` holds anything `wanted` lacks. */
function missing(wanted: readonly string[], have: readonly string[]): string[] | undefined {
  const rest = [...wanted];
  for (const key of have) {
    const at = rest.indexOf(key);
    if (at < 0) return undefined;
    rest.splice(at, 1);
  }
  return rest;
}

/**
 * A group keyword takes every device after it (`mirror a b c` is a three-way mirror), so one-disk
 * vdevs come before the groups on a command line.
 */
const commandOrder = (vdevs: readonly ResolvedVdev[]) => [...vdevs.filter((v) => v.kind === 'disk'), ...vdevs.filter((v) => v.kind !== 'disk')];
const vdevWords = (v: ResolvedVdev) => (v.kind === 'disk' ? v.disks.map((d) => d.device) : [v.kind, ...v.disks.map((d) => d.device)]);
const describeVdevs = (vdevs: readonly ResolvedVdev[]) =>
  vdevs.map((v) => (v.kind === 'disk' ? v.disks[0]!.device : `${v.kind}(${v.disks.map((d) => d.device).join(', ')})`)).join(', ');
const forced = (spec: PoolSpec, disks: readonly ResolvedDisk[]) => (spec.force && disks.some((d) => d.disk.label !== undefined) ? ['-f'] : []);

function createCommand(spec: PoolSpec, resolved: ResolvedPool, zpool: string): PlannedCommand {
  const all = [...resolved.data, ...resolved.log].flatMap((v) => v.disks).concat(resolved.cache, resolved.spares);
  const argv = [
    zpool, 'create', ...forced(spec, all),
    ...Object.entries(spec.properties).flatMap(([k, v]) => ['-o', `${k}=${v}`]),
    spec.name,
    ...commandOrder(resolved.data).flatMap(vdevWords),
    ...(resolved.log.length > 0 ? ['log', ...commandOrder(resolved.log).flatMap(vdevWords)] : []),
    ...(resolved.cache.length > 0 ? ['cache', ...resolved.cache.map((d) => d.device)] : []),
    ...(resolved.spares.length > 0 ? ['spare', ...resolved.spares.map((d) => d.device)] : []),
  ];
  const parts = [describeVdevs(resolved.data)];
  if (resolved.log.length > 0) parts.push(`log ${describeVdevs(resolved.log)}`);
  if (resolved.cache.length > 0) parts.push(`cache ${resolved.cache.map((d) => d.device).join(', ')}`);
  if (resolved.spares.length > 0) parts.push(`spare ${resolved.spares.map((d) => d.device).join(', ')}`);
  const labelled = all.filter((d) => d.disk.label !== undefined && spec.force);
  const overwrote = labelled.length > 0 ? ` (force: overwrote ${labelled.map((d) => `${d.disk.name}'s ${d.disk.label}`).join('; ')})` : '';
  return { argv, change: `created pool ${spec.name}: ${parts.join('; ')}${overwrote}` };
}

export function planPool(
  spec: PoolSpec,
  resolved: ResolvedPool,
  existing: PoolLayout | undefined,
  profile: { os: OsProfile; zpool: string },
): PoolPlan {
  if (existing === undefined) return { ok: true, commands: [createCommand(spec, resolved, profile.zpool)], found: [`pool ${spec.name} does not exist`], warnings: [] };
  const expected = expectedLayout(spec.name, resolved);
  const found = inDiskNames(existing, resolved, profile.os);
  const keys = (vdevs: readonly LayoutVdev[]) => vdevs.map(vdevKey);
  const dataSame = missing(keys(expected.data), keys(found.data))?.length === 0;
  const logs = missing(keys(expected.log), keys(found.log));
  const cache = missing(expected.cache, found.cache);
  const spares = missing(expected.spares, found.spares);
  if (!dataSame || !logs || !cache || !spares || found.special.length > 0) {
    return {
      ok: false,
      conflict: {
        type: 'PoolLayoutDiffers', pool: spec.name, expected, found,
        message: `pool ${spec.name} exists with another layout than the inventory's, and esxi-zfs never changes an existing pool's data vdevs or removes a device: found ${describeLayout(found)}; the inventory wants ${describeLayout(expected)}: change the pool by hand (or the inventory) so that they agree`,
      },
    };
  }
  const commands: PlannedCommand[] = [];
  const addedLogs = resolved.log.filter((v) => logs.includes(vdevKey(vdevLayout(v))));
  if (addedLogs.length > 0) {
    commands.push({
      argv: [profile.zpool, 'add', ...forced(spec, addedLogs.flatMap((v) => v.disks)), spec.name, 'log', ...commandOrder(addedLogs).flatMap(vdevWords)],
      change: `added log ${describeVdevs(addedLogs)} to pool ${spec.name}`,
    });
  }
  for (const [word, list, have] of [['cache', resolved.cache, cache], ['spare', resolved.spares, spares]] as const) {
    const added = list.filter((d) => have.includes(d.disk.name));
    if (added.length === 0) continue;
    commands.push({
      argv: [profile.zpool, 'add', ...forced(spec, added), spec.name, word, ...added.map((d) => d.device)],
      change: `added ${word} ${added.map((d) => d.device).join(', ')} to pool ${spec.name}`,
    });
  }
  return { ok: true, commands, found: [`pool ${describeLayout(found)}`], warnings: [] };
}
