/**
 * The read-only commands whose output `parse.ts` reads, as argv (quote with ssh/quote.ts).
 * Written for the oldest ZFS we meet; each choice was checked on zfs-fuse (pool version 23):
 * - no `zfs list -p` and no `zfs get -t`: snapshots come from `zfs get -d 1`, which also lists
 *   the dataset and its children; `parseSnapshotProps(output, dataset)` keeps the snapshots.
 * - asking `zfs get` for a property the version lacks (`written`, `receive_resume_token`) fails
 *   the whole command ("bad property list"), so those are asked for only when capable.
 * - no `zpool get -H` / `-o`: `zpool get all` with its header, read by `parseZpoolGet`.
 */
import type { Capabilities } from './capabilities';

export const SNAPSHOT_PROPERTIES = ['guid', 'createtxg', 'creation', 'userrefs'] as const;

/**
 * Snapshots of `dataset` (not of its children) → `parseSnapshotProps(output, dataset)`.
 * An absent dataset fails the command: `isMissingDataset(stderr)` → target `null` for planning.
 */
export function snapshotPropsArgv(dataset: string): string[] {
  return ['zfs', 'get', '-H', '-p', '-d', '1', '-o', 'name,property,value', SNAPSHOT_PROPERTIES.join(','), dataset];
}

/** State of one dataset before a receive or failover → `parseDatasetProps`. */
export function datasetPropsArgv(dataset: string, caps: Capabilities): string[] {
  const properties = ['type', 'used', 'mountpoint', 'readonly'];
  if (caps.writtenProperty) properties.push('written');
  if (caps.resumeTokens) properties.push('receive_resume_token');
  return ['zfs', 'get', '-H', '-p', '-o', 'name,property,value', properties.join(','), dataset];
}

/** Pool version and features → `parseZpoolGet`. */
export function poolPropsArgv(pool: string): string[] {
  return ['zpool', 'get', 'all', pool];
}
