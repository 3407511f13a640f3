/**
 * What a pool can do for replication, from its version (legacy pools: 1-28) or its feature
 * flags (pools created by illumos/OpenZFS since 2012: version property `-`, internally 5000).
 * The rules are data; each says where it comes from.
 *
 * A pool feature is necessary, not sufficient: the software must also know the flag (e.g.
 * `zfs receive -s` arrived years after extensible_dataset). Send-side options need both ends:
 * use `commonCapabilities(source, target)` for those.
 */
export type PoolVersion = number | 'feature-flags';

export type Capabilities = {
  /** `zfs hold` / `zfs release`, `userrefs` property. */
  holds: boolean;
  /** `zfs receive -s`, `receive_resume_token`, `zfs send -t`. */
  resumeTokens: boolean;
  /** `zfs bookmark`, `zfs send -i #bookmark`. */
  bookmarks: boolean;
  /** `zfs send -c`. */
  compressedSend: boolean;
  /** `zfs send -L`. */
  largeBlocks: boolean;
  /** `zfs send -e`. */
  embeddedData: boolean;
  /** `zfs send -w`. */
  rawSend: boolean;
  /** The `written` property (bytes written since the newest snapshot). */
  writtenProperty: boolean;
};

type Needs = { minPoolVersion: number } | { feature: string } | { featureFlags: true };

type Rule = { capability: keyof Capabilities; needs: Needs; source: string };

export const CAPABILITY_RULES: readonly Rule[] = [
  {
    capability: 'holds',
    needs: { minPoolVersion: 18 },
    source: 'zpool upgrade -v: "18 Snapshot user holds" (zfs-fuse pool v23 lists it, checked in the lab)',
  },
  {
    capability: 'resumeTokens',
    needs: { feature: 'extensible_dataset' },
    source: 'zfs-receive(8) -s: "the storage pool must have the extensible_dataset feature enabled"',
  },
  {
    capability: 'bookmarks',
    needs: { feature: 'bookmarks' },
    source: 'zpool-features(7): the bookmarks feature enables `zfs bookmark`',
  },
  {
    capability: 'compressedSend',
    needs: { feature: 'lz4_compress' },
    source: 'zfs-send(8) -c: "If the lz4_compress feature is active on the sending system, then the receiving system must have that feature enabled as well"',
  },
  {
    capability: 'largeBlocks',
    needs: { feature: 'large_blocks' },
    source: 'zfs-send(8) -L: "The receiving system must have the large_blocks pool feature enabled as well"',
  },
  {
    capability: 'embeddedData',
    needs: { feature: 'embedded_data' },
    source: 'zfs-send(8) -e: "the receiving system must have the embedded_data feature enabled"',
  },
  {
    capability: 'rawSend',
    needs: { feature: 'encryption' },
    source: 'zfs-send(8) -w: "For encrypted datasets, send data exactly as it exists on disk"; zpool-features(7) encryption',
  },
  {
    capability: 'writtenProperty',
    needs: { featureFlags: true },
    source: 'zfs get written on zfs-fuse pool v23: "bad property list: invalid property written" (lab); conservative: assumed only on feature-flag software',
  },
];

function meets(needs: Needs, poolVersion: PoolVersion, features: ReadonlySet<string>): boolean {
  if ('minPoolVersion' in needs) return poolVersion === 'feature-flags' || poolVersion >= needs.minPoolVersion;
  if ('feature' in needs) return poolVersion === 'feature-flags' && features.has(needs.feature);
  return poolVersion === 'feature-flags';
}

/** `features`: names (without `feature@`) whose state is `enabled` or `active`. */
export function capabilities(poolVersion: PoolVersion, features: readonly string[]): Capabilities {
  const enabled = new Set(features);
  const result = {} as Capabilities;
  for (const rule of CAPABILITY_RULES) result[rule.capability] = meets(rule.needs, poolVersion, enabled);
  return result;
}

/** What a send from one pool to another may use: what both have. */
export function commonCapabilities(a: Capabilities, b: Capabilities): Capabilities {
  const result = {} as Capabilities;
  for (const rule of CAPABILITY_RULES) result[rule.capability] = a[rule.capability] && b[rule.capability];
  return result;
}
