/**
 * An existing pool's properties against the inventory's (a new pool gets them from `zpool create
 * -o`). Read with `zpool get all POOL`, which every ZFS here prints alike (zfs-fuse has no -H, -o
 * or -p): `NAME PROPERTY VALUE SOURCE` columns, a header first.
 *
 * Invariants:
 * 1. A differing property that can be changed is set, one `zpool set` each; a property fixed when
 *    the pool or its vdevs were made (ashift, altroot) or one that cannot be undone (version) is a
 *    warning, never a command.
 * 2. A property this ZFS does not know is a warning: nothing is run for it.
 */
import type { PoolSpec } from '../../configure/shared';
import type { PropertyFact } from './datasets';
import type { StoragePlan } from './pool-plan';
import { sameValue } from './property-values';

/** Not changed on an existing pool: ashift applies to vdevs when they are made, altroot to an import, a version upgrade is for good. */
const FIXED: Record<string, string> = {
  ashift: 'the existing vdevs keep the ashift they were made with',
  altroot: 'it is set when a pool is imported',
  version: 'a pool upgrade cannot be undone: run zpool upgrade by hand if it is meant',
};

export const poolPropertiesRead = (zpool: string, pool: string): string[] => [zpool, 'get', 'all', pool];

/** `zpool get all POOL`: property → value and source; the header and other pools' rows skipped. */
export function parsePoolProperties(output: string, pool: string): Map<string, PropertyFact> {
  const found = new Map<string, PropertyFact>();
  for (const line of output.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[0] !== pool) continue;
    // VALUE may hold spaces (a comment): everything between PROPERTY and the last column.
    found.set(fields[1]!, { value: fields.slice(2, -1).join(' '), source: fields.at(-1)! });
  }
  return found;
}

export function planPoolProperties(spec: PoolSpec, current: ReadonlyMap<string, PropertyFact>, zpool: string): StoragePlan {
  const plan: StoragePlan = { commands: [], found: [], warnings: [] };
  for (const [property, wanted] of Object.entries(spec.properties)) {
    const fact = current.get(property);
    if (!fact) {
      plan.warnings.push(`pool ${spec.name}: this ZFS has no pool property ${property}: not set`);
      continue;
    }
    if (sameValue(property, wanted, fact.value)) continue;
    plan.found.push(`pool ${spec.name}: ${property}=${fact.value} (${fact.source}), the inventory says ${wanted}`);
    const fixed = FIXED[property];
    if (fixed) {
      plan.warnings.push(`pool ${spec.name}: ${property} is ${fact.value}, not the inventory's ${wanted}, and is left so: ${fixed}`);
      continue;
    }
    plan.commands.push({ argv: [zpool, 'set', `${property}=${wanted}`, spec.name], change: `pool ${spec.name}: set ${property}=${wanted} (was ${fact.value})` });
  }
  return plan;
}
