/**
 * Replication jobs derived from the inventory: one per dataset with `replicateTo`. A job is what a
 * replicateDataset run is given: no secret, only host references and policy.
 */
import type { ReplicationJob } from '../core/replication/shared';
import type { Inventory } from './schema';
import type { SetupReplicationTrustInput } from '../core/trust/shared';
import { findStorageVm, storageHostRef, storageVms } from './targets';

import { durationMs } from './duration';

export function replicationJobs(inventory: Inventory): ReplicationJob[] {
  const defaults = inventory.replication;
  return storageVms(inventory).flatMap((vm) =>
    vm.datasets.flatMap((dataset) => {
      const to = dataset.replicateTo;
      if (!to) return [];
      return [{
        source: { host: storageHostRef(inventory, vm), dataset: dataset.name },
        target: { host: storageHostRef(inventory, findStorageVm(inventory, to.vm)), dataset: to.dataset },
        user: defaults.user,
        snapshotPrefix: defaults.snapshotPrefix,
        send: to.send ?? defaults.send ?? ['properties'],
        recursive: to.recursive ?? defaults.recursive ?? false,
        intermediates: to.intermediates ?? defaults.intermediates ?? true,
        rollback: to.rollback ?? defaults.rollback ?? false,
        retention: to.retention ?? defaults.retention ?? {},
        stallTimeoutMs: durationMs(defaults.stallTimeout),
        sshCiphers: defaults.sshCiphers,
        retry: {
          maximumAttempts: defaults.retry?.maximumAttempts ?? 5,
          initialIntervalMs: durationMs(defaults.retry?.initialInterval ?? '10s'),
          maximumIntervalMs: durationMs(defaults.retry?.maximumInterval ?? '5m'),
        },
        schedule: to.schedule ?? defaults.schedule,
      }];
    }),
  );
}

export function findJob(inventory: Inventory, dataset: string): ReplicationJob {
  const jobs = replicationJobs(inventory);
  const matches = jobs.filter((j) => j.source.dataset === dataset || `${j.source.host.name}:${j.source.dataset}` === dataset);
  if (matches.length === 1) return matches[0]!;
  const known = jobs.map((j) => `${j.source.host.name}:${j.source.dataset}`).join(', ') || 'none';
  throw new Error(
    matches.length === 0
      ? `dataset '${dataset}' is not replicated by this inventory (replicated: ${known})`
      : `dataset '${dataset}' is on several storage VMs: name it as VM:DATASET (${known})`,
  );
}

/** setupReplicationTrust's input: every storage VM, and an edge source VM -> target VM per job. */
export function replicationTrustInput(inventory: Inventory): SetupReplicationTrustInput {
  return {
    hosts: storageVms(inventory).map((vm) => storageHostRef(inventory, vm)),
    user: inventory.replication.user,
    allowSystemUser: inventory.replication.allowSystemUser,
    edges: replicationJobs(inventory).map((job) => ({ source: job.source.host, target: job.target.host, targetDataset: job.target.dataset })),
  };
}
