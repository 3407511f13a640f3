/**
 * failover's and failback's steps on the storage VMs: whether a host answers, the replica's fence,
 * the state failback plans from, the recovered copy's snapshots (and its freeze for the cut-over),
 * the received copy swapped in for the original, and the recovered copy destroyed at the end. Each
 * reads first, changes only what differs, and says what it found and changed.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failure } from '../../core/failures';
import type { StepReport } from '../../core/configure/shared';
import { FENCE_PROPERTY, FINAL_SNAPSHOT_PROPERTY } from '../../core/failover/shared';
import type { FailbackFacts } from '../../core/failover/plan';
import { guestProfile } from '../../core/guest/profile';
import type { StorageHostRef } from '../../core/hosts';
import { isReshareFailure } from '../../core/guest/storage/shares';
import type { Snapshot } from '../../core/zfs/snapshot';
import { SshConnectionError } from '../ssh';
import type { Transport } from '../transport';
import { listingOk } from '../listing';
import { parseDatasetFacts, type PropertyFact } from '../../core/guest/storage/datasets';
import { fenceOf, snapshotsOf, type DatasetRef } from '../replication/datasets';
import { REPLICA_OVERRIDES } from '../replication/replica';

const TIMEOUT = { timeoutMs: 120_000 };
/** How many changed paths a report names before it only counts the rest. */
const CHANGES_LISTED = 50;
const RENAME_ATTEMPTS = 15;

export interface FailbackStateInput {
  original: DatasetRef;
  replica: DatasetRef;
  clone: DatasetRef;
  /** Where the recovered copy is received on the original's host. */
  incoming: string;
  /** Where the original is set aside during the swap. */
  aside: string;
}

/** What failback's plan decides from (core/failover/plan.ts), and whether the original is set aside. */
export interface FailbackState extends FailbackFacts {
  aside: boolean;
}

const empty = (): StepReport => ({ found: [], changed: [], warnings: [] });

export function createFailoverStorageActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  const zfs = (host: StorageHostRef) => guestProfile(host.os).zfs;
  const zfsRun = (host: StorageHostRef, argv: string[]) => transport.run(host, [zfs(host), ...argv], TIMEOUT);
  const zfsOk = (host: StorageHostRef, argv: string[]) => transport.runOk(host, [zfs(host), ...argv], TIMEOUT);
  const exists = async (host: StorageHostRef, dataset: string) => (await zfsRun(host, ['get', '-H', '-o', 'value', 'type', dataset])).code === 0;
  const property = async (host: StorageHostRef, dataset: string, name: string): Promise<string | undefined> => {
    const got = await zfsRun(host, ['get', '-H', '-o', 'value', name, dataset]);
    const value = got.stdout.trim();
    return got.code === 0 && value !== '-' && value !== '' ? value : undefined;
  };
  /** `zfs set` where sharing may fail without an NFS server (the value is stored): a warning, not a failure. */
  const setTolerant = async (host: StorageHostRef, dataset: string, assignment: string, report: StepReport) => {
    const set = await zfsRun(host, ['set', assignment, dataset]);
    if (set.code === 0) return;
    if (!isReshareFailure(set.stderr)) throw new Error(`${host.name}: zfs set ${assignment} ${dataset} failed: ${set.stderr.trim()}`);
    report.warnings.push(`${dataset}: ${assignment} is set but the host could not (un)share it: ${set.stderr.trim()}`);
  };

  /** What changed on the original since `base`: zfs diff where ZFS has it, else (Linux) files whose ctime is newer. */
  async function changesSince(ref: DatasetRef, base: Snapshot): Promise<{ changes: string[]; method: string }> {
    const diff = await zfsRun(ref.host, ['diff', '-H', `${ref.dataset}@${base.name}`, ref.dataset]);
    if (diff.code === 0) return { changes: listed(diff.stdout.split('\n').filter(Boolean).map((l) => l.replace(/\t/g, ' '))), method: 'zfs diff' };
    const mountpoint = await property(ref.host, ref.dataset, 'mountpoint');
    const mounted = (await property(ref.host, ref.dataset, 'mounted')) === 'yes';
    if (ref.host.os !== 'linux' || !mounted || !mountpoint?.startsWith('/')) {
      // Not known is not nothing: it counts as a change, so that consent is asked for.
      return { changes: [`neither zfs diff nor a mounted filesystem to look at: what changed after @${base.name} cannot be named`], method: 'unknown' };
    }
    // A deletion or rename shows as its directory changed; ctime cannot be set back by a user.
    // From the second before the snapshot's: zfs-fuse keeps whole seconds, so a file written in the
    // snapshot's own second, after it, has a ctime equal to its creation (missed by a strict -newer).
    // A file written just before the snapshot may be named too: asking consent needlessly is the safe side.
    const found = await transport.run(ref.host, ['find', mountpoint, '-xdev', '-newerct', `@${base.creation - 1}`], TIMEOUT);
    if (found.code !== 0) return { changes: [`find failed (${found.stderr.trim()}): what changed after @${base.name} cannot be named`], method: 'unknown' };
    return { changes: listed(found.stdout.split('\n').filter(Boolean)), method: `files changed after @${base.name} (ctime; zfs diff is missing here)` };
  }

  return {
    /** Whether the host answers SSH: a refused or timed-out connection is "no"; any other answer, even a refusal to log in, is "yes". */
    async probeStorageAnswers(host: StorageHostRef): Promise<{ answers: boolean; detail: string }> {
      // A fresh connection: one kept from before could be half dead and only time out.
      await transport.disconnect(host);
      try {
        await transport.runOk(host, ['true'], { timeoutMs: 20_000 });
        return { answers: true, detail: `${host.name} answers SSH on ${host.address}` };
      } catch (error) {
        if (error instanceof SshConnectionError && (error.stage === 'connect' || error.stage === 'timeout')) {
          return { answers: false, detail: `${host.name} does not answer SSH on ${host.address}: ${error.message}` };
        }
        return { answers: true, detail: `${host.name} answers on ${host.address} but the check failed: ${(error as Error).message}` };
      }
    },

    /** `esxi-zfs:fenced=VALUE` on the replica, unless it is fenced already (its first value is kept). */
    async setReplicaFence(ref: DatasetRef, value: string): Promise<StepReport> {
      const report = empty();
      const current = await fenceOf(transport, ref);
      if (current) report.found.push(`${ref.host.name}:${ref.dataset} fenced (${current})`);
      else {
        await zfsOk(ref.host, ['set', `${FENCE_PROPERTY}=${value}`, ref.dataset]);
        report.changed.push(`${ref.host.name}:${ref.dataset} fenced: ${FENCE_PROPERTY}=${value}`);
      }
      return report;
    },

    async clearReplicaFence(ref: DatasetRef): Promise<StepReport> {
      const report = empty();
      const current = await fenceOf(transport, ref);
      if (!current) report.found.push(`${ref.host.name}:${ref.dataset} is not fenced`);
      else {
        await zfsOk(ref.host, ['inherit', FENCE_PROPERTY, ref.dataset]);
        report.changed.push(`${ref.host.name}:${ref.dataset}: fence lifted (was ${current})`);
      }
      return report;
    },

    /** Everything failback plans from, read in one step. */
    async readFailbackState(input: FailbackStateInput): Promise<FailbackState> {
      const { original, replica, clone } = input;
      const [fence, replicaSnapshots, cloneOrigin, originalSnapshots, incoming, aside] = await Promise.all([
        fenceOf(transport, replica),
        snapshotsOf(transport, replica),
        property(clone.host, clone.dataset, 'origin'),
        snapshotsOf(transport, original),
        snapshotsOf(transport, { host: original.host, dataset: input.incoming }),
        exists(original.host, input.aside),
      ]);
      let cloneState: FailbackState['clone'] = null;
      if (cloneOrigin) {
        const [snapshots, finalSnapshot] = await Promise.all([snapshotsOf(transport, clone), property(clone.host, clone.dataset, FINAL_SNAPSHOT_PROPERTY)]);
        cloneState = { origin: cloneOrigin, snapshots: snapshots ?? [], ...(finalSnapshot && { finalSnapshot }) };
      }
      const originName = cloneOrigin?.split('@')[1];
      const originGuid = replicaSnapshots?.find((s) => s.name === originName)?.guid;
      const base = originalSnapshots?.find((s) => s.guid === originGuid);
      const { changes, method } = base ? await changesSince(original, base) : { changes: [], method: 'no snapshot in common with the recovered copy' };
      return {
        ...(fence && { fence }),
        clone: cloneState,
        replica: replicaSnapshots,
        original: originalSnapshots,
        originalChanges: changes,
        changesMethod: method,
        incoming,
        aside,
      };
    },

    /**
     * `zfs snapshot clone@name` unless it exists. With `freeze` (the cut-over), first the copy is
     * made read-only and unshared and the final snapshot's name recorded on it, so that nothing is
     * written after the snapshot and a retry or re-run takes the same one.
     */
    async snapshotRecoveredCopy(input: { clone: DatasetRef; name: string; freeze: boolean }): Promise<{ snapshot: Snapshot; report: StepReport }> {
      const { host, dataset } = input.clone;
      const report = empty();
      let name = input.name;
      if (input.freeze) {
        const recorded = await property(host, dataset, FINAL_SNAPSHOT_PROPERTY);
        if (recorded) {
          name = recorded;
          report.found.push(`${dataset} frozen for the cut-over (final snapshot @${recorded})`);
        } else {
          if (((await snapshotsOf(transport, input.clone)) ?? []).some((s) => s.name === name)) {
            throw new Error(`${host.name}: ${dataset}@${name} exists from before the freeze: the final snapshot needs a name of its own`);
          }
          await zfsOk(host, ['set', 'readonly=on', dataset]);
          await setTolerant(host, dataset, 'sharenfs=off', report);
          await zfsOk(host, ['set', `${FINAL_SNAPSHOT_PROPERTY}=${name}`, dataset]);
          report.changed.push(`${dataset} frozen: read-only, unshared, final snapshot @${name}`);
        }
      }
      const before = (await snapshotsOf(transport, input.clone)) ?? [];
      if (before.some((s) => s.name === name)) report.found.push(`${dataset}@${name}`);
      else {
        await zfsOk(host, ['snapshot', `${dataset}@${name}`]);
        report.changed.push(`snapshot ${dataset}@${name}`);
      }
      const snapshot = ((await snapshotsOf(transport, input.clone)) ?? []).find((s) => s.name === name);
      if (!snapshot) throw new Error(`${host.name}: ${dataset}@${name} was taken but cannot be read back`);
      return { snapshot, report };
    },

    /**
     * The received copy takes the original's place on its host: promoted (it owns the common
     * snapshots from then on, so the next replication to the replica is an ordinary incremental),
     * the original unmounted and set aside, the copy renamed to the original's name with the
     * original's own properties (mountpoint, sharenfs, dedup, ...; the replica protections the
     * stream put on it removed), mounted and shared, and the original set aside destroyed. Each part
     * is skipped where a previous attempt did it.
     */
    async swapInReceivedCopy(input: { original: DatasetRef; incoming: string; aside: string; finalGuid: string }): Promise<StepReport> {
      const { host, dataset } = input.original;
      const report = empty();
      const [originalSnaps, incomingSnaps] = await Promise.all([snapshotsOf(transport, input.original), snapshotsOf(transport, { host, dataset: input.incoming })]);
      const swapped = !!originalSnaps?.some((s) => s.guid === input.finalGuid) && incomingSnaps === null;
      if (!swapped) {
        if (!incomingSnaps?.some((s) => s.guid === input.finalGuid)) {
          throw ApplicationFailure.nonRetryable(`${host.name}: ${input.incoming} does not hold the recovered copy's final snapshot (guid ${input.finalGuid}): run failback again to send it`, Failure.FailbackState);
        }
        if (await property(host, input.incoming, 'origin')) {
          await zfsOk(host, ['promote', input.incoming]);
          report.changed.push(`promoted ${input.incoming}: it holds the common snapshots now`);
        }
        if (originalSnaps !== null) {
          if ((await property(host, dataset, 'mounted')) === 'yes') {
            await zfsOk(host, ['unmount', dataset]);
            report.changed.push(`unmounted ${dataset}`);
          }
          await renameWhenFree(host, dataset, input.aside);
          report.changed.push(`set ${dataset} aside as ${input.aside}`);
        }
        await renameWhenFree(host, input.incoming, dataset);
        report.changed.push(`renamed ${input.incoming} to ${dataset}`);
      }
      if (await exists(host, input.aside)) {
        // zfs-fuse may mount a dataset again as it renames it (or fail to, "busy", and leave it to
        // a retry): the original set aside must not hold the mountpoint the copy takes.
        if ((await property(host, input.aside, 'mounted')) === 'yes') {
          await zfsOk(host, ['unmount', input.aside]);
          report.changed.push(`unmounted ${input.aside}`);
        }
        await restoreProperties(host, input.aside, dataset, report);
        await zfsOk(host, ['destroy', '-r', input.aside]);
        report.changed.push(`destroyed ${input.aside} (the original's state before failback)`);
      } else report.found.push(`${dataset} holds the recovered copy's final snapshot`);
      if ((await property(host, dataset, 'mounted')) !== 'yes') {
        await zfsOk(host, ['mount', dataset]);
        report.changed.push(`mounted ${dataset}`);
      }
      const sharenfs = await property(host, dataset, 'sharenfs');
      if (sharenfs && sharenfs !== 'off') {
        const shared = await zfsRun(host, ['share', dataset]);
        if (shared.code !== 0 && !/already shared/.test(shared.stderr)) report.warnings.push(`${dataset}: zfs share: ${shared.stderr.trim()}`);
      }
      return report;
    },

    /** `zfs destroy -r` of the recovered copy, only when it is the clone failover made and its final snapshot is on every `holders`. */
    async destroyRecoveredCopy(input: { clone: DatasetRef; origin: string; finalGuid: string; holders: DatasetRef[] }): Promise<StepReport> {
      const { host, dataset } = input.clone;
      const report = empty();
      const origin = await property(host, dataset, 'origin');
      if (!origin) {
        report.found.push(`${host.name}:${dataset} is gone`);
        return report;
      }
      if (origin !== input.origin) {
        throw ApplicationFailure.nonRetryable(`${host.name}: ${dataset} is a clone of ${origin}, not of ${input.origin}: not the recovered copy, left alone`, Failure.FailbackState);
      }
      for (const holder of input.holders) {
        if (!((await snapshotsOf(transport, holder)) ?? []).some((s) => s.guid === input.finalGuid)) {
          report.warnings.push(`kept ${host.name}:${dataset}: ${holder.host.name}:${holder.dataset} does not hold its final snapshot yet`);
          return report;
        }
      }
      await zfsOk(host, ['destroy', '-r', dataset]);
      report.changed.push(`destroyed the recovered copy ${host.name}:${dataset} (its data is on ${input.holders.map((h) => `${h.host.name}:${h.dataset}`).join(' and ')})`);
      return report;
    },
  };

  /**
   * `zfs rename`, waiting while ZFS calls the dataset busy: zfs-fuse does for a few seconds after a
   * promote or the rename of its neighbour (seen in the lab, 3 attempts in one run).
   */
  async function renameWhenFree(host: StorageHostRef, from: string, to: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const renamed = await zfsRun(host, ['rename', from, to]);
      if (renamed.code === 0) return;
      if (!/dataset is busy/.test(renamed.stderr) || attempt >= RENAME_ATTEMPTS) {
        throw new Error(`${host.name}: zfs rename ${from} ${to} failed: ${renamed.stderr.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  /**
   * A dataset's local properties. Read from every property with its name and source (not `-s local`):
   * a value may hold line breaks (a user property's note), read whole, and one whose lines forge a
   * row repeats a property every dataset lists (sharenfs), which the parser refuses.
   */
  async function localProperties(host: StorageHostRef, dataset: string): Promise<Map<string, string>> {
    const listed = await listingOk(transport, host, [zfs(host), 'get', '-H', '-o', 'name,property,value,source', 'all', dataset], TIMEOUT);
    const facts = parseDatasetFacts(listed, [dataset]).get(dataset) ?? new Map<string, PropertyFact>();
    return new Map([...facts].filter(([, fact]) => fact.source === 'local').map(([property, fact]) => [property, fact.value]));
  }

  /** The original's own (local) properties onto the copy that replaces it; the replica protections the stream set are undone. */
  async function restoreProperties(host: StorageHostRef, from: string, to: string, report: StepReport): Promise<void> {
    const local = await localProperties(host, from);
    const now = await localProperties(host, to);
    for (const [name, value] of local) {
      if (name === 'sharenfs' || now.get(name) === value) continue;
      await zfsOk(host, ['set', `${name}=${value}`, to]);
      report.changed.push(`${to}: ${name}=${value} (the original's)`);
    }
    for (const name of Object.keys(REPLICA_OVERRIDES)) {
      if (local.has(name) || !now.has(name) || name === 'sharenfs') continue;
      // canmount is not inherited: its default is on.
      if (name === 'canmount') await zfsOk(host, ['set', 'canmount=on', to]);
      else await zfsOk(host, ['inherit', name, to]);
      report.changed.push(`${to}: ${name} back to the default (the stream's replica protection)`);
    }
    // Shared once mounted (zfs-fuse shares only a mounted filesystem).
    const sharenfs = local.get('sharenfs');
    if (sharenfs === now.get('sharenfs')) return;
    if ((await property(host, to, 'mounted')) !== 'yes') await zfsOk(host, ['mount', to]);
    if (sharenfs !== undefined) {
      await setTolerant(host, to, `sharenfs=${sharenfs}`, report);
      report.changed.push(`${to}: sharenfs=${sharenfs} (the original's)`);
    } else {
      const inherited = await zfsRun(host, ['inherit', 'sharenfs', to]);
      if (inherited.code !== 0 && !isReshareFailure(inherited.stderr)) throw new Error(`${host.name}: zfs inherit sharenfs ${to} failed: ${inherited.stderr.trim()}`);
      report.changed.push(`${to}: sharenfs back to the inherited value`);
    }
  }
}

function listed(lines: string[]): string[] {
  return lines.length <= CHANGES_LISTED ? lines : [...lines.slice(0, CHANGES_LISTED), `... and ${lines.length - CHANGES_LISTED} more`];
}
