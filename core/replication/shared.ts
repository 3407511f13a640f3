/**
 * The replication runbook's contract: what a run is given (a job: no secret, only host references
 * and policy), its workflow and schedule ids, what it reports, and its progress while it runs.
 */
import { defineQuery } from '@temporalio/workflow';
import type { StorageHostRef } from '../hosts';
import { Runbook, runSearchAttributes } from '../search-attributes';
import type { RetentionRules, Schedule, SendOption } from '../../inventory/schema';

export interface ReplicationJob {
  source: { host: StorageHostRef; dataset: string };
  target: { host: StorageHostRef; dataset: string };
  /** The replication user on the target: its key may only run `zfs receive` into this dataset. */
  user: string;
  snapshotPrefix: string;
  send: SendOption[];
  recursive: boolean;
  intermediates: boolean;
  rollback: boolean;
  retention: RetentionRules;
  stallTimeoutMs: number;
  /** ssh -c for the stream, most preferred first. */
  sshCiphers: string[];
  retry: { maximumAttempts: number; initialIntervalMs: number; maximumIntervalMs: number };
  schedule?: Schedule;
}

/** One run per dataset at a time: every run of a dataset uses this workflow id. */
export function replicationWorkflowId(job: ReplicationJob): string {
  return `replicate:${job.source.host.name}:${job.source.dataset}`;
}

/** Every run of a dataset carries its dataset and source storage VM. */
export function replicationSearchAttributes(job: ReplicationJob) {
  return runSearchAttributes(Runbook.replicate, { host: job.source.host.name, dataset: job.source.dataset });
}

/** The run's line in the UI. */
export function replicationSummary(job: ReplicationJob): string {
  return `replicate ${job.source.host.name}:${job.source.dataset} to ${job.target.host.name}:${job.target.dataset}`;
}

export function replicationScheduleId(job: ReplicationJob): string {
  return `esxi-zfs:replicate:${job.source.host.name}:${job.source.dataset}`;
}


export interface ReplicationResult {
  /** `VM:dataset` → `VM:dataset`. */
  source: string;
  target: string;
  kind: 'full' | 'incremental' | 'up-to-date';
  /** Source-side name of the common base, for incrementals. */
  base?: string;
  /** The snapshot this run made and sent. */
  snapshot: string;
  bytes: number;
  durationMs: number;
  bytesPerSecond: number;
  /** Snapshots destroyed by retention, by side. */
  pruned: { source: string[]; target: string[] };
  rolledBackTo?: string;
  /** What this run did to keep the replica read-only, unmounted and unshared (nothing on most runs). */
  replicaChanged?: string[];
  warnings: string[];
}

export type ReplicationPhase =
  | 'snapshot'
  | 'inspect'
  | 'rollback'
  | 'send'
  | 'prune'
  | 'done';

export interface ReplicationProgress {
  phase: ReplicationPhase;
  kind?: ReplicationResult['kind'];
  base?: string;
  snapshot?: string;
}

/** Heartbeat details of the send activity: what the progress display reads while a stream runs. */
export interface TransferProgress {
  bytes: number;
  elapsedMs: number;
  bytesPerSecond: number;
}

/** The run's phase: what `replicate --wait` and `status` show. */
export const progressQuery = defineQuery<ReplicationProgress>('progress');
