/**
 * Replication planning: which stream brings a target dataset up to date with its source, or why
 * none may be sent. Pure functions over snapshot lists; running the plan is the transport's job.
 *
 * Invariants:
 * 1. Identity is the guid. A target snapshot is a source snapshot iff their guids are equal,
 *    whatever the names: a renamed snapshot still matches; a same-named snapshot with another
 *    guid is a different snapshot and never a base.
 * 2. Order comes from createtxg, each pool its own: the source's txg orders source snapshots,
 *    the target's txg orders target snapshots. Never names or creation times (the hosts' clocks
 *    may be skewed), and never one pool's txg against the other's.
 * 3. The base is the common snapshot newest on the source; the stream ends at the newest source
 *    snapshot. Receives keep snapshots in source order, so the base is also the newest common
 *    snapshot on the target.
 * 4. The target has diverged when it has any snapshot newer (target txg) than the base, whether
 *    or not the source has it, or bytes written since the base. Receiving then needs a rollback
 *    to the base, which destroys them. ZFS itself would accept an incremental on top of newer
 *    snapshots as long as nothing was written; we refuse anyway: someone made those snapshots on
 *    a replica, and a person decides what happens to them.
 * 5. A rollback is planned only with `rollbackAllowed`, only ever to the common base (as named on
 *    the target: `zfs rollback -r <target>@<rollbackTo.name>`, then a receive without -F), and
 *    never when there is no common base: that stays a conflict whatever the inventory says.
 * 6. Divergence is reported even when nothing needs sending (up-to-date), so a changed replica is
 *    visible at once; with `rollbackAllowed` the up-to-date plan then carries the rollback.
 */
import { byCreatetxg, fullName, type Snapshot } from './snapshot';
import { formatBytes } from '../format';

export type ReplicationPlan =
  /** The target dataset does not exist: `zfs send <snapshot> | zfs recv -u <target>`. */
  | { kind: 'full'; snapshot: Snapshot }
  /**
   * `zfs send -I|-i @<base.name> <target>`; base and target are source-side snapshots. The same
   * base on the target (same guid) is `baseOnTarget`: its name there may differ (renamed).
   */
  | { kind: 'incremental'; base: Snapshot; baseOnTarget: Snapshot; target: Snapshot; intermediates: boolean }
  /** The newest source snapshot is already on the target. */
  | { kind: 'up-to-date'; base: Snapshot; baseOnTarget: Snapshot }
  | { kind: 'conflict'; conflict: Conflict };

export type Conflict =
  /** The target exists and shares no guid with the source (names listed oldest first). */
  | { type: 'NoCommonSnapshot'; sourceSnapshots: string[]; targetSnapshots: string[] }
  /** The target has snapshots newer than the base (oldest first). */
  | { type: 'TargetDiverged'; base: Snapshot; baseOnTarget: Snapshot; newerOnTarget: Snapshot[] }
  /**
   * The target was written to since the base. `writtenBytes` is absent when it was detected by
   * `zfs receive` refusing the stream (pools without the `written` property).
   */
  | { type: 'TargetModified'; base: Snapshot; baseOnTarget: Snapshot; writtenBytes?: number }
  | { type: 'SourceHasNoSnapshot' };

export type PlanInput = {
  source: Snapshot[];
  /** null: the target dataset does not exist. */
  target: Snapshot[] | null;
  /** The target's `written` (bytes since its newest snapshot); omit where ZFS lacks it. */
  targetWrittenSinceBase?: number;
  /** -I (send the source's snapshots between base and newest) rather than -i. */
  sendIntermediates: boolean;
  rollbackAllowed: boolean;
};

/** `rollbackTo` is the base as it exists on the target (target dataset, target-side name). */
export type PlanResult = { plan: ReplicationPlan; rollbackTo?: Snapshot };

function ordered(snapshots: Snapshot[], side: string): Snapshot[] {
  const datasets = new Set(snapshots.map((s) => s.dataset));
  if (datasets.size > 1) throw new Error(`planReplication: ${side} snapshots span datasets ${[...datasets].join(', ')}`);
  return [...snapshots].sort(byCreatetxg);
}

/** Invariants 1 and 3: the newest source snapshot (source txg) whose guid the target has. */
function newestCommon(source: Snapshot[], target: Snapshot[]): { base: Snapshot; baseOnTarget: Snapshot } | undefined {
  const onTarget = new Map(target.map((s) => [s.guid, s]));
  for (const base of [...source].reverse()) {
    const baseOnTarget = onTarget.get(base.guid);
    if (baseOnTarget) return { base, baseOnTarget };
  }
  return undefined;
}

export function planReplication(input: PlanInput): PlanResult {
  const written = input.targetWrittenSinceBase;
  if (written !== undefined && !(Number.isSafeInteger(written) && written >= 0)) {
    throw new Error(`planReplication: targetWrittenSinceBase ${written} is not a byte count`);
  }
  const source = ordered(input.source, 'source');
  const newest = source[source.length - 1];
  if (!newest) return { plan: { kind: 'conflict', conflict: { type: 'SourceHasNoSnapshot' } } };
  if (input.target === null) return { plan: { kind: 'full', snapshot: newest } };

  const target = ordered(input.target, 'target');
  const common = newestCommon(source, target);
  if (!common) {
    const names = (list: Snapshot[]) => list.map((s) => s.name);
    return {
      plan: {
        kind: 'conflict',
        conflict: { type: 'NoCommonSnapshot', sourceSnapshots: names(source), targetSnapshots: names(target) },
      },
    };
  }

  const { base, baseOnTarget } = common;
  const newerOnTarget = target.filter((s) => byCreatetxg(s, baseOnTarget) > 0);
  const conflict: Conflict | undefined =
    newerOnTarget.length > 0
      ? { type: 'TargetDiverged', base, baseOnTarget, newerOnTarget }
      : written !== undefined && written > 0
        ? { type: 'TargetModified', base, baseOnTarget, writtenBytes: written }
        : undefined;
  const plan: ReplicationPlan =
    base.guid === newest.guid
      ? { kind: 'up-to-date', base, baseOnTarget }
      : { kind: 'incremental', base, baseOnTarget, target: newest, intermediates: input.sendIntermediates };

  if (!conflict) return { plan };
  if (input.rollbackAllowed) return { plan, rollbackTo: baseOnTarget };
  return { plan: { kind: 'conflict', conflict } };
}

/** Where a dataset lives, as the operator knows it: `{ host: 'uss2', dataset: 'sp2/nas/vol0' }`. */
export type Endpoint = { host: string; dataset: string };

const LISTED = 10;

function atNames(names: string[]): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, LISTED).map((n) => `@${n}`).join(', ');
  return names.length > LISTED ? `${shown} and ${names.length - LISTED} more` : shown;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export const bytes = (n: number): string => (n < 1024 ? `${n} bytes` : `${formatBytes(n)} (${n} bytes)`);

function baseText(base: Snapshot, baseOnTarget: Snapshot): string {
  return base.name === baseOnTarget.name
    ? `@${base.name}`
    : `@${baseOnTarget.name} (${fullName(base)} on the source, renamed)`;
}

const ALLOW_ROLLBACK = "allow rollback for this dataset in the inventory (its replicateTo's rollback: true, or replication.rollback: true for every dataset)";
/** What a refused run leaves: its own new snapshot on the source, which retention prunes like any other. */
const NOTHING_SENT = 'Nothing was sent and the target was not changed (this run\'s new snapshot stays on the source, and retention prunes it like any other).';
const NEW_TARGET = 'replicate to a new target dataset (a full send) and retire this one';

/** An operator-readable explanation: what differs, that nothing was changed, and the choices. */
export function describeConflict(conflict: Conflict, ctx: { source: Endpoint; target: Endpoint }): string {
  const s = `${ctx.source.dataset} on ${ctx.source.host}`;
  const t = `${ctx.target.dataset} on ${ctx.target.host}`;
  const on = ` on ${ctx.target.host}`;
  switch (conflict.type) {
    case 'SourceHasNoSnapshot':
      return (
        `Source ${s} has no snapshot, so there is nothing to send. ` +
        `The run takes a snapshot before planning: check that step's result and the dataset name in the inventory.`
      );
    case 'NoCommonSnapshot': {
      const targetNames = new Set(conflict.targetSnapshots);
      const sameName = conflict.sourceSnapshots.filter((n) => targetNames.has(n));
      return (
        `Target ${t} exists but shares no snapshot with source ${s} (snapshots are matched by guid, not by name). ` +
        (sameName.length > 0
          ? `${atNames(sameName)} ${sameName.length === 1 ? 'exists' : 'exist'} on both sides under the same name but with different guids, so not as the same snapshot: the target was created or received independently. `
          : '') +
        `Source snapshots: ${atNames(conflict.sourceSnapshots)}. Target snapshots: ${atNames(conflict.targetSnapshots)}. ` +
        `An incremental send needs a common snapshot and a full send needs the target to be absent; ` +
        `a rollback cannot help without a common snapshot. ${NOTHING_SENT} ` +
        `Choices: (1) if the target holds nothing you need, destroy it (zfs destroy -r ${ctx.target.dataset}${on}) and the next run sends a full copy; ` +
        `(2) to keep it, rename it away (zfs rename ${ctx.target.dataset} ${ctx.target.dataset}-old${on}) and the next run sends a full copy; ` +
        `(3) replicate to another target dataset in the inventory.`
      );
    }
    case 'TargetDiverged': {
      const base = baseText(conflict.base, conflict.baseOnTarget);
      const at = `@${conflict.baseOnTarget.name}`;
      return (
        `Target ${t} has ${plural(conflict.newerOnTarget.length, 'snapshot')} newer than the common base ${base}: ` +
        `${atNames(conflict.newerOnTarget.map((n) => n.name))}. ` +
        `The source does not have them; making the target follow the source again means a rollback to ${at}, which destroys them. ` +
        `${NOTHING_SENT} ` +
        `Choices: (1) keep them: copy what you need out of them (zfs clone, or zfs send them elsewhere), then destroy them yourself ` +
        `(zfs destroy ${ctx.target.dataset}@<name>${on}, one per snapshot); the next run continues from ${at}; ` +
        `(2) ${ALLOW_ROLLBACK} so the run rolls back to ${at}, destroying them; (3) ${NEW_TARGET}.`
      );
    }
    case 'TargetModified': {
      const base = baseText(conflict.base, conflict.baseOnTarget);
      const at = `@${conflict.baseOnTarget.name}`;
      const what = conflict.writtenBytes === undefined ? 'been written to' : `${bytes(conflict.writtenBytes)} written`;
      return (
        `Target ${t} has ${what} since the common base ${base}: the replica was changed in place (e.g. mounted and tested without cloning). ` +
        `Receiving needs a rollback to ${at}, which discards those writes. ${NOTHING_SENT} ` +
        `Choices: (1) keep the writes: copy what you need off the target, then roll it back yourself (zfs rollback ${ctx.target.dataset}${at}${on}); ` +
        `(2) ${ALLOW_ROLLBACK} so the run rolls back to ${at}, discarding them; (3) ${NEW_TARGET}. ` +
        `To test a replica without changing it, clone a snapshot (zfs clone ${ctx.target.dataset}${at} <pool>/clones/...), as the runbook does.`
      );
    }
  }
}
