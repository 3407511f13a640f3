/**
 * Failback's decisions, from the state read on the three hosts' datasets (pure, so every case is
 * tested without a host): whether there is anything to fail back, the common snapshot, what the
 * original holds after it (named before anything is discarded), and where the sync stands.
 */
import { byCreatetxg, type Snapshot } from '../zfs/snapshot';
import { Failure } from '../failures';

export interface FailbackFacts {
  fence?: string;
  /** null: there is no recovered copy. */
  clone: { origin: string; snapshots: Snapshot[]; finalSnapshot?: string } | null;
  replica: Snapshot[] | null;
  original: Snapshot[] | null;
  /** Paths changed on the original since the snapshot it shares with the copy (zfs diff, or the files' ctime where ZFS has no diff). */
  originalChanges: string[];
  /** How the changes were found, or why they could not be. */
  changesMethod: string;
  incoming: Snapshot[] | null;
}

export type FailbackPlan =
  | { kind: 'nothing'; why: string }
  | { kind: 'refuse'; type: string; message: string }
  | {
    kind: 'proceed';
    /** The replica's snapshot the copy is a clone of (`dataset@name`) and its guid: the common snapshot. */
    origin: { full: string; guid: string };
    /** What the original holds after the common snapshot: discarded by the swap (consent needed when not empty). */
    changes: string[];
    /** The swap is done: the original holds the copy's final snapshot. */
    swapped: boolean;
    /** The copy's final snapshot (its name recorded by the freeze), when it is taken. */
    final?: Snapshot;
  };

/** The copy's snapshot the received copy has too (by guid), newest first: the next sync's base. */
export function syncBase(copy: Snapshot[], incoming: Snapshot[] | null): Snapshot | undefined {
  const have = new Set((incoming ?? []).map((s) => s.guid));
  return [...copy].sort(byCreatetxg).reverse().find((s) => have.has(s.guid));
}

const date = (s: Snapshot) => new Date(s.creation * 1000).toISOString();

export function planFailback(facts: FailbackFacts, where: { original: string; clone: string }): FailbackPlan {
  const { clone } = facts;
  if (!clone) {
    if (!facts.fence) return { kind: 'nothing', why: `no failover of ${where.original} is in effect (its replica is not fenced, there is no recovered copy ${where.clone})` };
    return { kind: 'refuse', type: Failure.FailbackState, message: `the replica is fenced (${facts.fence}) but the recovered copy ${where.clone} is gone: nothing to bring back; run failover again, or lift the fence by hand (zfs inherit esxi-zfs:fenced) if the original is to stay as it is` };
  }
  const originName = clone.origin.split('@')[1];
  const origin = facts.replica?.find((s) => s.name === originName);
  if (!origin) {
    return { kind: 'refuse', type: Failure.FailbackState, message: `the recovered copy ${where.clone} is a clone of ${clone.origin}, which the replica no longer lists: not a copy failover made` };
  }
  const final = clone.finalSnapshot ? clone.snapshots.find((s) => s.name === clone.finalSnapshot) : undefined;
  const swapped = !!final && !!facts.original?.some((s) => s.guid === final.guid) && facts.incoming === null;
  const base = { full: clone.origin, guid: origin.guid };
  if (swapped) return { kind: 'proceed', origin: base, changes: [], swapped, final };

  if (facts.original === null) {
    return { kind: 'refuse', type: Failure.FailbackState, message: `${where.original} does not exist: re-create its pool and dataset (configureStorage), then run failback again` };
  }
  const common = facts.original.find((s) => s.guid === origin.guid);
  if (!common) {
    return {
      kind: 'refuse', type: Failure.FailbackState,
      message: `${where.original} has no snapshot in common with the recovered copy (${clone.origin}, guid ${origin.guid}): it was re-created; destroy it (zfs destroy -r) and restore it from the copy by hand`,
    };
  }
  if (facts.incoming !== null && facts.incoming.length > 0 && !syncBase(clone.snapshots, facts.incoming)) {
    return { kind: 'refuse', type: Failure.FailbackState, message: `${where.original}-failback exists with none of the recovered copy's snapshots: destroy it (zfs destroy -r), then run failback again` };
  }
  const after = facts.original.filter((s) => BigInt(s.createtxg) > BigInt(common.createtxg));
  const changes = [
    ...after.map((s) => `snapshot @${s.name} (${date(s)})`),
    ...(facts.originalChanges.length > 0 ? [`${facts.changesMethod}:`, ...facts.originalChanges.map((c) => `  ${c}`)] : []),
  ];
  return { kind: 'proceed', origin: base, changes, swapped, ...(final && { final }) };
}
