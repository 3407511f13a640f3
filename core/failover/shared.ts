/**
 * The failover and failback runbooks' contract: what each is given (from the inventory, no secret),
 * its steps, what each step reports, the progress query, and the names both derive from the dataset
 * (workflow ids, the fence, the recovered copy, its datastore).
 *
 * Failover, for a source storage VM that is down or lost: fence the dataset (its schedules paused
 * in both directions and a ZFS user property on the replica that replicateDataset refuses to write
 * past), clone the newest replicated snapshot (the replica stream itself is never written), share
 * it and mount it as `<datastore>-recovered` on the surviving ESXi hosts, and say what was lost.
 *
 * Failback, once the source is back: the changes made on the original after the common snapshot
 * are named, and discarded only with the operator's consent; the recovered copy goes back to the
 * original's host (a bulk sync while VMs still run, then a short cut-over: the recovered datastore
 * unmounted, the copy frozen, a last small sync, the received copy swapped in for the original, the
 * original datastore mounted), then the fence is lifted, one normal replication brings the replica
 * in line (still incremental), the schedules resume and the recovered copy is destroyed.
 */
import { defineQuery } from '@temporalio/workflow';
import type { StepReport } from '../configure/shared';
import type { ShareSpec } from '../configure/shared';
import type { NasMountSpec } from '../datastore/shared';
import type { EsxiHostRef } from '../passthrough/shared';
import type { ReplicationJob } from '../replication/shared';
import type { SetupReplicationTrustInput } from '../trust/shared';

/**
 * The fence: a ZFS user property on the replica, `<workflow id> <ISO time>`. It lives with the data,
 * so every starter of a replication sees it (a schedule re-applied from an inventory that says
 * `paused: false`, another worker, an operator's `esxi-zfs replicate`): replicateDataset reads it
 * with the target's state and refuses before it touches either end.
 */
export const FENCE_PROPERTY = 'esxi-zfs:fenced';
/** On the recovered copy once its writes are frozen for the cut-over: the name of its final snapshot. */
export const FINAL_SNAPSHOT_PROPERTY = 'esxi-zfs:failback-final';
/** Suffix of the datastore that mounts the recovered copy. */
export const RECOVERED_SUFFIX = '-recovered';

export const failoverWorkflowId = (job: ReplicationJob) => `failover:${job.source.host.name}:${job.source.dataset}`;
export const failbackWorkflowId = (job: ReplicationJob) => `failback:${job.source.host.name}:${job.source.dataset}`;

/** The runbook's clone layout, under its own name: sp2/nas/vol0 of uss1 is recovered as sp2/recovered/uss1/nas/vol0. */
export function recoveredCloneName(job: ReplicationJob): string {
  const [targetPool] = job.target.dataset.split('/');
  const rest = job.source.dataset.split('/').slice(1).join('/');
  return `${targetPool}/recovered/${job.source.host.name}${rest ? `/${rest}` : ''}`;
}

/** Where the recovered copy is received on the original's host before it is swapped in. */
export const incomingName = (original: string) => `${original}-failback`;
/** Where the original is set aside during the swap (destroyed right after). */
export const asideName = (original: string) => `${original}-pre-failback`;

/** Datastore names are at most 42 characters (vSphere). */
export const DATASTORE_NAME_MAX = 42;
export function recoveredDatastoreName(datastore: string): string {
  const name = `${datastore}${RECOVERED_SUFFIX}`;
  if (name.length > DATASTORE_NAME_MAX) {
    throw new Error(`the recovered copy's datastore ${name} would be longer than ${DATASTORE_NAME_MAX} characters: shorten datastore.name ${datastore} in the inventory`);
  }
  return name;
}

/** The datastores of one dataset on the ESXi hosts: the original export and the recovered copy's. */
export interface DatastorePlan {
  /** The inventory's datastore name. */
  name: string;
  recoveredName: string;
  /** ESXi hosts that mount the recovered copy: the dataset's mountOn without the failed source's own host. */
  survivors: EsxiHostRef[];
  /** Every host of mountOn: the original is mounted on these again at failback. */
  all: EsxiHostRef[];
  /** The original export (source storage address, dataset mountpoint). */
  original: NasMountSpec;
  /** The recovered copy's export (replica host's storage address, the same mountpoint). */
  recovered: NasMountSpec;
}

export interface FailoverInput {
  /** The dataset's replication job: source = the lost original, target = the replica. */
  job: ReplicationJob;
  /** The jobs whose schedules are paused (this dataset's, and any replicating its replica or into its original). */
  fenceJobs: ReplicationJob[];
  clone: string;
  mountpoint?: string;
  share?: ShareSpec;
  /** Absent: the inventory mounts no datastore for the dataset (the clone is shared, nothing is mounted). */
  datastores?: DatastorePlan;
  /** Fail over although the source answers SSH (a split brain the operator accepts). */
  force: boolean;
}

export interface FailbackInput {
  job: ReplicationJob;
  fenceJobs: ReplicationJob[];
  clone: string;
  datastores?: DatastorePlan;
  /** The inventory's trust: widened for the recovered copy's way back, then put back as it was. */
  trust: SetupReplicationTrustInput;
  /** The operator's consent to discard what the original holds after the common snapshot. */
  discardChanges: boolean;
}

export const FAILOVER_STEPS = ['probeSource', 'readReplica', 'pauseSchedules', 'fenceReplica', 'cloneReplica', 'mountRecovered'] as const;
export type FailoverStep = (typeof FAILOVER_STEPS)[number];

export const FAILBACK_STEPS = [
  'probeOriginal', 'inspect', 'openTrust', 'bulkSync', 'unmountRecovered', 'freezeCopy', 'finalSync', 'swapIn', 'mountOriginal',
  'closeTrust', 'liftFence', 'replicate', 'unpauseSchedules', 'destroyCopy',
] as const;
export type FailbackStep = (typeof FAILBACK_STEPS)[number];

export interface StepOutcome<S extends string> {
  step: S;
  report: StepReport;
}

export interface FailoverResult {
  dataset: string;
  source: string;
  replica: string;
  clone: string;
  /** The replica's snapshot the recovered copy is a clone of. */
  origin: string;
  /** When that snapshot was taken on the source (ISO): what was written after it is not in the copy. */
  lastReplicated: string;
  /** From lastReplicated to the failover: the window of writes lost. */
  lostWindowMs: number;
  /** `host: datastore` mounted (or found mounted). */
  datastores: string[];
  steps: StepOutcome<FailoverStep>[];
}

export interface FailbackResult {
  dataset: string;
  /** Nothing to fail back: no fence and no recovered copy. */
  nothingToDo?: string;
  /** What the original held after the common snapshot, discarded with consent. */
  discarded: string[];
  /** The recovered copy's final snapshot, now the original's newest. */
  finalSnapshot?: string;
  replication?: { kind: string; base?: string; snapshot: string; bytes: number };
  /** The recovered copy destroyed, or why it was kept. */
  copy: string;
  steps: StepOutcome<FailbackStep>[];
}

export interface RunbookProgress {
  step: string;
  done: string[];
  startedAt: string;
}

/** The run's current step and the ones done: what `failover --wait` and `failback --wait` show. */
export const failoverProgressQuery = defineQuery<RunbookProgress>('failoverProgress');
