/**
 * A writable copy of a replica for testing, as the runbook advises: clone the newest replicated
 * snapshot, never write to the replica itself, so that the next run stays incremental.
 */
import { Failure } from '../../core/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { Transport } from '../transport';
import { guestProfile } from '../../core/guest/profile';
import { snapshotsOf, type DatasetRef } from './datasets';
import type { ShareSpec } from '../../core/configure/shared';
import { isReshareFailure, renderSharenfs, type RenderedShare } from '../../core/guest/storage/shares';
import { readSharenfsDialect } from '../guest/sharenfs-dialect';

export interface CloneReplicaInput {
  replica: DatasetRef;
  clone: string;
  /** Default: the replica's received value (the source's, from `zfs send -p`), not its local override. */
  mountpoint?: string;
  /** The source dataset's share from the inventory, rendered in this host's sharenfs dialect. Default: the replica's received sharenfs, as for mountpoint. */
  share?: ShareSpec;
  /** Destroy an existing clone of an older snapshot and clone the newest. */
  replace: boolean;
}

export interface CloneReplicaResult {
  clone: string;
  origin: string;
  changed: string[];
  warnings: string[];
}

export function createCloneActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  return {
    async cloneNewestReplicaSnapshot(input: CloneReplicaInput): Promise<CloneReplicaResult> {
      const { host } = input.replica;
      const { zfs } = guestProfile(host.os);
      const zfsRun = (argv: string[]) => transport.run(host, [zfs, ...argv], { timeoutMs: 120_000 });
      const zfsOk = (argv: string[]) => transport.runOk(host, [zfs, ...argv], { timeoutMs: 120_000 });

      /** What `zfs send -p` carried (pool version 22 on: the replica's own values are local overrides, see replica.ts). */
      const receivedValues = async (dataset: string): Promise<{ mountpoint?: string; sharenfs?: string }> => {
        const got = await zfsRun(['get', '-H', '-o', 'property,received', 'mountpoint,sharenfs', dataset]);
        if (got.code !== 0) return {}; // before pool version 22 there are no received values
        const values = new Map(got.stdout.trim().split('\n').map((l) => l.split('\t') as [string, string]));
        const value = (p: string) => {
          const v = values.get(p);
          return v && v !== '-' && v !== 'off' ? v : undefined;
        };
        return { mountpoint: value('mountpoint'), sharenfs: value('sharenfs') };
      };

      const listed = await snapshotsOf(transport, input.replica);
      if (listed === null) {
        throw ApplicationFailure.nonRetryable(`${host.name}: there is no replica ${input.replica.dataset} yet: replicate first`, Failure.ReplicaMissing);
      }
      const newest = listed.at(-1);
      if (!newest) throw ApplicationFailure.nonRetryable(`${host.name}: ${input.replica.dataset} has no snapshot to clone`, Failure.ReplicaMissing);
      const origin = `${input.replica.dataset}@${newest.name}`;
      const changed: string[] = [];
      const warnings: string[] = [];

      const existing = await zfsRun(['get', '-H', '-o', 'value', 'origin', input.clone]);
      const current = existing.code === 0 ? existing.stdout.trim() : undefined;
      // Made already (by an earlier run, or by an attempt whose worker died before it shared it):
      // its share is checked below like a new clone's.
      const made = current === origin;
      if (current !== undefined && !made) {
        if (!current.startsWith(`${input.replica.dataset}@`)) {
          throw ApplicationFailure.nonRetryable(`${host.name}: ${input.clone} exists and is not a clone of ${input.replica.dataset} (origin ${current}): choose another name`, Failure.CloneConflict);
        }
        if (!input.replace) {
          throw ApplicationFailure.nonRetryable(`${host.name}: ${input.clone} is a clone of the older ${current}; pass --replace to destroy it and clone ${origin}`, Failure.CloneOutdated);
        }
        await zfsOk(['destroy', input.clone]);
        changed.push(`destroyed ${input.clone} (clone of ${current})`);
      }
      const parent = input.clone.split('/').slice(0, -1).join('/');
      if (!made && parent.includes('/') && (await zfsRun(['get', '-H', '-o', 'value', 'type', parent])).code !== 0) {
        await zfsOk(['create', '-p', parent]);
        changed.push(`created ${parent}`);
      }
      /** The inventory's share in the dialect of this host's ZFS (the target's, not the source's). */
      const rendered = async (share: ShareSpec): Promise<RenderedShare> => renderSharenfs(share, await readSharenfsDialect(transport, host));
      const received = await receivedValues(input.replica.dataset);
      const mountpoint = input.mountpoint ?? received.mountpoint;
      const fromInventory = input.share && (await rendered(input.share));
      warnings.push(...(fromInventory?.warnings ?? []));
      const sharenfs = fromInventory?.sharenfs ?? received.sharenfs;
      if (made) {
        const [mounted, shared] = (await zfsOk(['get', '-H', '-o', 'value', 'mountpoint,sharenfs', input.clone])).stdout.trim().split('\n');
        if (mountpoint && mounted !== mountpoint) {
          await zfsOk(['set', `mountpoint=${mountpoint}`, input.clone]);
          changed.push(`set mountpoint=${mountpoint} (was ${mounted})`);
        }
        if (!sharenfs || shared === sharenfs) return { clone: input.clone, origin, changed, warnings };
      } else {
        await zfsOk(['clone', ...(mountpoint ? ['-o', `mountpoint=${mountpoint}`] : []), origin, input.clone]);
        changed.push(`cloned ${origin} to ${input.clone}`);
      }
      if (sharenfs) {
        const shared = await zfsRun(['set', `sharenfs=${sharenfs}`, input.clone]);
        // Without an NFS server the property is stored but sharing fails.
        if (shared.code !== 0 && !isReshareFailure(shared.stderr)) {
          throw new Error(`${host.name}: zfs set sharenfs on ${input.clone} failed: ${shared.stderr.trim()}`);
        }
        if (shared.code !== 0) warnings.push(`sharenfs is set on ${input.clone} but the host could not share it: ${shared.stderr.trim()}`);
        changed.push(`set sharenfs=${sharenfs}`);
      }
      return { clone: input.clone, origin, changed, warnings };
    },
  };
}
