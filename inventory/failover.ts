/**
 * failover's and failback's inputs for one replicated dataset, from the inventory: its job, the jobs
 * whose schedules are fenced with it, the recovered copy's name, mountpoint and share, and the
 * datastores (which ESXi hosts mount the dataset, which of them survive the source's host). No
 * secret: hosts and the vSphere endpoint are references.
 */
import { recoveredCloneName, recoveredDatastoreName, type DatastorePlan, type FailbackInput, type FailoverInput } from '../core/failover/shared';
import type { ReplicationJob } from '../core/replication/shared';
import { shareSpec } from './configure';
import { findJob, replicationJobs, replicationTrustInput } from './jobs';
import { esxiHostRef } from './passthrough';
import type { Inventory } from './schema';
import { findStorageVm } from './targets';

type Endpoint = ReplicationJob['source'];
const same = (a: Endpoint, b: Endpoint) => a.host.name === b.host.name && a.dataset === b.dataset;

/** "Both directions": the dataset's own job, a job replicating its replica onwards, a job replicating into its original. */
export function fenceJobs(inventory: Inventory, job: ReplicationJob): ReplicationJob[] {
  return replicationJobs(inventory).filter((j) => same(j.source, job.source) || same(j.source, job.target) || same(j.target, job.source));
}

function sourceDataset(inventory: Inventory, job: ReplicationJob) {
  const dataset = findStorageVm(inventory, job.source.host.name).datasets.find((d) => d.name === job.source.dataset);
  if (!dataset) throw new Error(`dataset ${job.source.dataset} is not on storage VM ${job.source.host.name}`);
  return dataset;
}

/** The datastores of the dataset; undefined when the inventory mounts none for it. */
export function datastorePlan(inventory: Inventory, job: ReplicationJob): DatastorePlan | undefined {
  const dataset = sourceDataset(inventory, job);
  if (!dataset.datastore) return undefined;
  // The ESXi host that runs the source storage VM is the one lost with it.
  const sourceEsxi = inventory.hosts.find((h) => h.storageVm?.name === job.source.host.name)?.name;
  const all = dataset.datastore.mountOn.map((name) => esxiHostRef(inventory, name));
  const original = { datastore: dataset.datastore.name, remoteHost: job.source.host.storageAddress, remotePath: dataset.mountpoint ?? `/${dataset.name}`, nfsVersion: dataset.datastore.nfs, accessMode: dataset.datastore.access };
  const recoveredName = recoveredDatastoreName(dataset.datastore.name);
  return {
    name: dataset.datastore.name,
    recoveredName,
    survivors: all.filter((h) => h.name !== sourceEsxi),
    all,
    original,
    recovered: { ...original, datastore: recoveredName, remoteHost: job.target.host.storageAddress },
  };
}

export function failoverInput(inventory: Inventory, dataset: string, force: boolean): FailoverInput {
  const job = findJob(inventory, dataset);
  const source = sourceDataset(inventory, job);
  const datastores = datastorePlan(inventory, job);
  return {
    job,
    fenceJobs: fenceJobs(inventory, job),
    clone: recoveredCloneName(job),
    ...(source.mountpoint !== undefined && { mountpoint: source.mountpoint }),
    ...(source.share && { share: shareSpec(source.share) }),
    ...(datastores && { datastores }),
    force,
  };
}

export function failbackInput(inventory: Inventory, dataset: string, discardChanges: boolean): FailbackInput {
  const job = findJob(inventory, dataset);
  const datastores = datastorePlan(inventory, job);
  return {
    job,
    fenceJobs: fenceJobs(inventory, job),
    clone: recoveredCloneName(job),
    ...(datastores && { datastores }),
    trust: replicationTrustInput(inventory),
    discardChanges,
  };
}
