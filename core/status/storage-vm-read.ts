/**
 * What inspectStorageVm runs on a storage VM (argv, read-only, for the oldest ZFS we meet: no
 * `zfs list -p`, no `zfs get -t`) and how its outputs become a StorageVmState, with the probe's and
 * the planners' parsers. Pure: unit-tested on captured output.
 */
import type { GuestProfile } from '../guest/profile';
import { parseZpoolList } from '../guest/probe-parse';
import { parseDatasetFacts } from '../guest/storage/datasets';
import { parsePoolStatus } from '../guest/storage/pool-layout';
import { parseSnapshotProps } from '../zfs/parse';
import { SNAPSHOT_PROPERTIES } from '../zfs/queries';
import type { DatasetState, PoolState, StorageVmExpectation, StorageVmState } from './shared';

export const DATASET_PROPERTIES = ['used', 'available', 'mountpoint', 'sharenfs'] as const;

export const storageVmReads = (profile: Pick<GuestProfile, 'zfs' | 'zpool'>) => ({
  /** Every imported pool: a pool that is not there is absent, not an error. */
  pools: [profile.zpool, 'list', '-H', '-o', 'name,size,allocated,free,health'],
  poolStatus: (pool: string) => [profile.zpool, 'status', pool],
  /** Exits 1 naming each dataset that does not exist, printing the others: read stderr with datasetReadErrors. */
  datasets: (names: readonly string[]) => [profile.zfs, 'get', '-H', '-p', '-o', 'name,property,value,source', DATASET_PROPERTIES.join(','), ...names],
  /** Each dataset's own snapshots (-d 1: not its children's). */
  snapshots: (names: readonly string[]) => [profile.zfs, 'get', '-H', '-p', '-d', '1', '-o', 'name,property,value', SNAPSHOT_PROPERTIES.join(','), ...names],
});

/** The inventory's pool as `zpool list` and `zpool status` show it; undefined when it is not imported. */
export function poolState(pool: string, zpoolList: string, zpoolStatus: string | undefined): PoolState | undefined {
  const summary = parseZpoolList(zpoolList).find((p) => p.name === pool);
  if (!summary) return undefined;
  const layout = zpoolStatus === undefined ? undefined : parsePoolStatus(zpoolStatus).find((p) => p.name === pool);
  return {
    ...summary,
    log: layout?.log.flatMap((v) => v.devices) ?? [],
    cache: layout?.cache ?? [],
  };
}

const bytes = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined);

/** Each expected dataset from `zfs get` of its properties and of its snapshots (both read with -H -p). */
export function datasetStates(expected: StorageVmExpectation['datasets'], properties: string, snapshots: string): DatasetState[] {
  const facts = parseDatasetFacts(properties, expected.map((d) => d.name));
  const byDataset = new Map<string, ReturnType<typeof parseSnapshotProps>>();
  for (const s of parseSnapshotProps(snapshots)) byDataset.set(s.dataset, [...(byDataset.get(s.dataset) ?? []), s]);
  return expected.map((d): DatasetState => {
    const props = facts.get(d.name);
    const base = { name: d.name, ...(d.replicaOf !== undefined && { replicaOf: d.replicaOf }), shared: d.shared };
    if (!props) return { ...base, exists: false, snapshots: 0 };
    const own = byDataset.get(d.name) ?? [];
    const newest = own.at(-1);
    const sharenfs = props.get('sharenfs')?.value;
    const mountpoint = props.get('mountpoint')?.value;
    return {
      ...base,
      exists: true,
      ...(bytes(props.get('used')?.value) !== undefined && { usedBytes: bytes(props.get('used')?.value) }),
      ...(bytes(props.get('available')?.value) !== undefined && { availableBytes: bytes(props.get('available')?.value) }),
      ...(mountpoint !== undefined && mountpoint !== '-' && { mountpoint }),
      ...(sharenfs !== undefined && sharenfs !== 'off' && sharenfs !== '-' && { sharenfs }),
      snapshots: own.length,
      ...(newest && { newestSnapshot: { name: newest.name, creation: newest.creation } }),
    };
  });
}

export function unreachable(expected: StorageVmExpectation, error: string): StorageVmState {
  return { name: expected.ssh.name, address: expected.ssh.address, reachable: false, error, poolName: expected.pool, datasets: [] };
}
