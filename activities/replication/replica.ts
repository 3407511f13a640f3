/**
 * A replica is never used in place: read-only (a read through a mount writes no atime, which would
 * make the next incremental refuse), never mounted automatically (a reboot would mount it at the
 * source's path, where its clone belongs) and never shared. Local values override what `zfs send
 * -p` carried; ZFS keeps the received ones apart (pool version 22 and later), for the clone and
 * for failover, and later receives update them without touching the local overrides.
 */
import type { Transport } from '../transport';
import { guestProfile } from '../../core/guest/profile';
import type { DatasetRef } from './datasets';

export const REPLICA_OVERRIDES: Readonly<Record<string, string>> = { readonly: 'on', canmount: 'noauto', sharenfs: 'off' };

/**
 * `zfs set PROP=VALUE DATASET` for each pair of arguments after the zfs binary, printing `set` after
 * each; stops at the first failure. Without an NFS server (zfs-fuse, a lab) sharenfs is stored but
 * (un)sharing fails ("property may be set"): that counts as set.
 */
const SET_EACH = `zfs=$1; shift
while [ $# -ge 2 ]; do
  if ! err=$("$zfs" set "$1" "$2" 2>&1) && ! printf '%s' "$err" | grep -q 'property may be set'; then printf '%s\\n' "$err" >&2; exit 1; fi
  echo set; shift 2
done`;

export interface ReplicaProtection {
  changed: string[];
  warnings: string[];
}

interface PropLine {
  name: string;
  property: string;
  value: string;
  source: string;
}

function parseGet(stdout: string): PropLine[] {
  return stdout.trim().split('\n').filter(Boolean).map((line) => {
    const [name = '', property = '', value = '', source = ''] = line.split('\t');
    return { name, property, value, source };
  });
}

/**
 * Sets the overrides locally where they are not (on every dataset of the tree with `recursive`:
 * canmount is never inherited, and a child's received value would beat an inherited one), and
 * unmounts what is mounted. Snapshots and properties a dataset type lacks (`-`) are skipped.
 */
export async function protectReplica(transport: Transport, ref: DatasetRef, recursive: boolean): Promise<ReplicaProtection> {
  const { host } = ref;
  const zfs = guestProfile(host.os).zfs;
  const properties = [...Object.keys(REPLICA_OVERRIDES), 'mounted'].join(',');
  const listed = await transport.runOk(host, [zfs, 'get', ...(recursive ? ['-r'] : []), '-H', '-o', 'name,property,value,source', properties, ref.dataset], { timeoutMs: 120_000 });
  const lines = parseGet(listed.stdout).filter((l) => !l.name.includes('@') && l.value !== '-');
  const changed: string[] = [];
  const warnings: string[] = [];
  const sets = lines.flatMap(({ name, property, value, source }) => {
    const wanted = REPLICA_OVERRIDES[property];
    return wanted === undefined || (value === wanted && source === 'local') ? [] : [{ name, property, wanted, was: `${value}, ${source}` }];
  });
  if (sets.length > 0) {
    // One round trip for all of them (a first receive sets three): each `zfs set` in turn, the first failure ends it.
    const set = await transport.run(host, ['sh', '-c', SET_EACH, 'sh', zfs, ...sets.flatMap((s) => [`${s.property}=${s.wanted}`, s.name])], { timeoutMs: 120_000 });
    const done = set.stdout.split('\n').filter((l) => l === 'set').length;
    for (const s of sets.slice(0, done)) changed.push(`${s.name}: ${s.property}=${s.wanted} (was ${s.was})`);
    if (set.code !== 0) {
      const failed = sets[done]!;
      throw new Error(`${host.name}: zfs set ${failed.property}=${failed.wanted} ${failed.name} failed: ${set.stderr.trim()}`);
    }
  }
  // Children first.
  const mounted = lines.filter((l) => l.property === 'mounted' && l.value === 'yes').map((l) => l.name).sort().reverse();
  for (const name of mounted) {
    const unmounted = await transport.run(host, [zfs, 'unmount', name], { timeoutMs: 120_000 });
    if (unmounted.code === 0) changed.push(`${name}: unmounted`);
    else warnings.push(`${host.name}: the replica ${name} is mounted and could not be unmounted (${unmounted.stderr.trim()}): unmount it, it is never to be used in place`);
  }
  return { changed, warnings };
}
