/**
 * NFS shares as the `sharenfs` property (the runbook: "Always define NFS properties using ZFS set
 * sharenfs=", so `zfs send -p` carries them to the replica). Each ZFS reads the property in its
 * own dialect:
 *
 * - illumos (share_nfs): `rw,nosuid,root=vh3-nas:vh2-nas` — `rw`/`ro` alone for every client,
 *   `rw=a:b`/`ro=a:b` for listed clients, `root=` the clients whose root stays root.
 * - OpenZFS on Linux (lib/libshare/os/linux/nfs.c): `rw=a:b`/`ro=a:b` name the clients (no value:
 *   every client, `*`); every other option must be an exportfs option (no_root_squash, sync,
 *   crossmnt, ...) and applies to every client; anything else (`nosuid`, `root=`) is a syntax error
 *   and the property is refused. One line per client goes to /etc/exports.d/zfs.exports:
 *   `/export/vol0 vh3-nas(sec=sys,rw,no_subtree_check,mountpoint,no_root_squash)`.
 * - zfs-fuse (measured: strace of `zfs set sharenfs` in the lab): space-separated `HOST:OPTIONS`
 *   entries, each run as `exportfs -o OPTIONS,fsid=N,no_subtree_check 'HOST:MOUNTPOINT'`; a
 *   value without ':' runs nothing. Per-client options, so the spec is expressed exactly.
 *
 * Invariants:
 * 1. Where a dialect cannot say what the spec says, the share is narrowed, never widened, and a
 *    warning names what was left out: OpenZFS on Linux gives every client the same root mapping,
 *    so "read-write for everyone, root for these" becomes "read-write, with root, for these only".
 * 2. A share is in place when sharenfs is exactly the rendered string and set locally.
 * 3. A dataset the inventory lists without a share has its locally set sharenfs turned `off`;
 *    an inherited one is reported, not changed; datasets the inventory does not list are never read.
 * 4. A changed share takes clients away: zfs-fuse exports a new value's clients without
 *    unexporting the old value's (measured in the lab), so there it is set `off` first.
 */
import type { DatasetSpec, ShareSpec } from '../../configure/shared';
import type { OsProfile } from '../../hosts';
import type { PoolVersion } from '../../zfs/capabilities';
import type { PropertyFact } from './datasets';
import type { StoragePlan } from './pool-plan';

export type SharenfsDialect = 'illumos' | 'openzfs' | 'zfs-fuse';

/**
 * Linux ZFS with a numbered pool version is zfs-fuse: ZFS on Linux had feature flags from its
 * first release (0.6.1), and the probe reads the version from `zpool upgrade -v`.
 */
export function sharenfsDialect(os: OsProfile, poolVersion: PoolVersion): SharenfsDialect {
  if (os === 'illumos') return 'illumos';
  return poolVersion === 'feature-flags' ? 'openzfs' : 'zfs-fuse';
}

export interface RenderedShare {
  sharenfs: string;
  /** What the dialect could not express, in words. */
  warnings: string[];
}

const NOSUID_ON_LINUX = 'nosuid: Linux NFS exports have no such option, so the server cannot enforce it (mount with nosuid on the clients; ESXi never runs files from a datastore)';

/** A share whose rw is true (every client) or a list: `rw: false` (read-only for every client) is rendered apart. */
type Listed = ShareSpec & { rw: true | string[] };

function clientsOf(share: ShareSpec): string[] {
  return [...(Array.isArray(share.rw) ? share.rw : []), ...share.ro];
}

/** `rw: false`: read-only for every client, root kept for the root list (narrowed on OpenZFS, invariant 1). */
function everyoneReadOnly(share: ShareSpec, dialect: SharenfsDialect): RenderedShare {
  const nosuid = share.nosuid && dialect !== 'illumos' ? [NOSUID_ON_LINUX] : [];
  if (dialect === 'illumos') {
    return { sharenfs: ['ro', ...(share.nosuid ? ['nosuid'] : []), ...(share.root.length > 0 ? [`root=${share.root.join(':')}`] : [])].join(','), warnings: [] };
  }
  if (dialect === 'zfs-fuse') return { sharenfs: [...share.root.map((h) => `${h}:ro,no_root_squash`), '*:ro'].join(' '), warnings: nosuid };
  if (share.root.length === 0) return { sharenfs: 'ro', warnings: nosuid };
  return {
    sharenfs: `ro=${share.root.join(':')},no_root_squash`,
    warnings: [`OpenZFS on Linux gives every client of a share the same root mapping: shared only with the clients that keep root (${share.root.join(', ')}), with no_root_squash; left out: every other client`, ...nosuid],
  };
}

function illumosSharenfs(share: Listed): RenderedShare {
  const parts = [
    ...(share.rw === true ? ['rw'] : share.rw.length > 0 ? [`rw=${share.rw.join(':')}`] : []),
    ...(share.ro.length > 0 ? [`ro=${share.ro.join(':')}`] : []),
    ...(share.nosuid ? ['nosuid'] : []),
    ...(share.root.length > 0 ? [`root=${share.root.join(':')}`] : []),
  ];
  return { sharenfs: parts.join(','), warnings: [] };
}

function openzfsSharenfs(share: Listed): RenderedShare {
  const warnings = share.nosuid ? [NOSUID_ON_LINUX] : [];
  const lists = (rw: true | string[], ro: string[], extra: string[]) =>
    [...(rw === true ? ['rw'] : rw.length > 0 ? [`rw=${rw.join(':')}`] : []), ...(ro.length > 0 ? [`ro=${ro.join(':')}`] : []), ...extra].join(',');
  const clients = clientsOf(share);
  const root = share.rw === true ? share.root : share.root.filter((h) => clients.includes(h));
  if (root.length === 0) return { sharenfs: lists(share.rw, share.ro, []), warnings };
  if (share.rw !== true && clients.every((h) => root.includes(h))) return { sharenfs: lists(share.rw, share.ro, ['no_root_squash']), warnings };
  const ro = share.ro.filter((h) => root.includes(h));
  const rw = share.rw === true ? root.filter((h) => !ro.includes(h)) : share.rw.filter((h) => root.includes(h));
  const dropped = share.rw === true ? ['every other client'] : clients.filter((h) => !root.includes(h));
  warnings.unshift(
    `OpenZFS on Linux gives every client of a share the same root mapping: shared only with the clients that keep root (${root.join(', ')}), with no_root_squash; left out: ${dropped.join(', ')}`,
  );
  return { sharenfs: lists(rw, ro, ['no_root_squash']), warnings };
}

function zfsFuseSharenfs(share: Listed): RenderedShare {
  const entry = (host: string, access: 'rw' | 'ro') => `${host}:${access}${share.root.includes(host) ? ',no_root_squash' : ''}`;
  const entries =
    share.rw === true
      ? [...share.root.filter((h) => !share.ro.includes(h)).map((h) => entry(h, 'rw')), ...share.ro.map((h) => entry(h, 'ro')), '*:rw']
      : [...share.rw.map((h) => entry(h, 'rw')), ...share.ro.map((h) => entry(h, 'ro'))];
  return { sharenfs: entries.join(' '), warnings: share.nosuid ? [NOSUID_ON_LINUX] : [] };
}

export function renderSharenfs(share: ShareSpec, dialect: SharenfsDialect): RenderedShare {
  if (share.rw === false) return everyoneReadOnly(share, dialect);
  if (share.rw !== true && clientsOf(share).length === 0) {
    throw new Error('a share with no client (rw and ro both empty): the inventory\'s checks let it through');
  }
  const listed: Listed = { ...share, rw: share.rw };
  if (dialect === 'illumos') return illumosSharenfs(listed);
  return dialect === 'openzfs' ? openzfsSharenfs(listed) : zfsFuseSharenfs(listed);
}

/** The host names a share's lists use: each must resolve on the guest (os.ts, resolveNameRead) before the share is set. */
export function namesToResolve(share: ShareSpec): string[] {
  return [...new Set([...clientsOf(share), ...share.root])];
}

/** `zfs set sharenfs` stored the value but no NFS server took it (zfs-fuse without exportfs, a stopped server). */
export function isReshareFailure(stderr: string): boolean {
  return /property may be set but unable to reshare filesystem/.test(stderr);
}

export function planShares(
  specs: readonly DatasetSpec[],
  current: ReadonlyMap<string, PropertyFact | undefined>,
  opts: { zfs: string; dialect: SharenfsDialect },
): StoragePlan {
  const plan: StoragePlan = { commands: [], found: [], warnings: [] };
  for (const spec of specs) {
    const fact = current.get(spec.name);
    const was = fact ? `${fact.value} (${fact.source})` : 'not read';
    if (!spec.share) {
      if (fact && fact.value !== 'off' && fact.source === 'local') {
        plan.found.push(`${spec.name}: sharenfs=${fact.value} is set locally but the inventory shares nothing`);
        plan.commands.push({ argv: [opts.zfs, 'set', 'sharenfs=off', spec.name], change: `${spec.name}: unshared: set sharenfs=off (was ${fact.value})` });
      } else if (fact && fact.value !== 'off') {
        plan.found.push(`${spec.name}: shared by its parent (sharenfs=${fact.value}, ${fact.source}): not changed`);
      }
      continue;
    }
    const { sharenfs, warnings } = renderSharenfs(spec.share, opts.dialect);
    plan.warnings.push(...warnings.map((w) => `${spec.name}: ${w}`));
    if (fact && fact.value === sharenfs && fact.source === 'local') {
      plan.found.push(`${spec.name}: shared (sharenfs=${sharenfs})`);
      continue;
    }
    plan.found.push(`${spec.name}: sharenfs is ${was}, the inventory says ${sharenfs}`);
    if (opts.dialect === 'zfs-fuse' && fact && fact.value !== 'off') {
      plan.commands.push({ argv: [opts.zfs, 'set', 'sharenfs=off', spec.name], change: `${spec.name}: unshared first: set sharenfs=off (zfs-fuse exports a new value's clients and keeps the old ones)` });
    }
    plan.commands.push({ argv: [opts.zfs, 'set', `sharenfs=${sharenfs}`, spec.name], change: `${spec.name}: set sharenfs=${sharenfs} (was ${was})` });
  }
  return plan;
}
