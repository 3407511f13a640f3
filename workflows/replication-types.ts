/** What a replication run reports: its result, and its progress while it runs. */

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
