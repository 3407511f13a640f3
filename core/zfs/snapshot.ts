/**
 * The snapshot record every zfs/ module works on, and its one ordering.
 *
 * Invariants:
 * - `guid` and `createtxg` are canonical unsigned 64-bit decimal strings (no sign, no leading
 *   zero). Never JS numbers: guids are random 64-bit values and lose precision beyond 2^53.
 *   Strings (not bigint) because snapshots cross the activity/workflow boundary as JSON, and
 *   JSON.stringify throws on bigint.
 * - `createtxg` orders snapshots of one pool only. Two pools' txgs are unrelated numbers.
 */
export type Snapshot = {
  /** e.g. `sp1/nas/vol0` */
  dataset: string;
  /** The part after `@`. */
  name: string;
  guid: string;
  createtxg: string;
  /** Unix seconds, by the clock of the host that took (or received) the snapshot. */
  creation: number;
  /** Number of holds; 0 where the pool has no holds (pool version < 18). */
  userrefs: number;
};

const UINT64_MAX = (1n << 64n) - 1n;
const CANONICAL_DECIMAL = /^(0|[1-9][0-9]*)$/;

export function isUint64Decimal(value: string): boolean {
  return CANONICAL_DECIMAL.test(value) && BigInt(value) <= UINT64_MAX;
}

/** Ascending createtxg: the creation order on one pool, exact for all 64-bit values. */
export function byCreatetxg(a: Snapshot, b: Snapshot): number {
  const x = BigInt(a.createtxg);
  const y = BigInt(b.createtxg);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function fullName(snapshot: Snapshot): string {
  return `${snapshot.dataset}@${snapshot.name}`;
}
