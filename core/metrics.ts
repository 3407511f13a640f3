/**
 * The product's own Prometheus metrics: their names, labels and histogram buckets. Emitted through
 * the Temporal SDK's metric meter, so they leave by the same endpoint as the SDK's runtime metrics.
 * Labels name only what the inventory bounds (datasets, hosts, workflow and activity types): never
 * a workflow or run id. They are camelCase like the ones the SDK adds to every custom metric
 * (namespace, taskQueue, activityType, workflowType); its own temporal_* metrics use snake_case.
 */
import type { ReplicationJob } from './replication/shared';

export const Metric = {
  /** Counter: bytes of the replication streams the target received. */
  replicationBytes: 'esxi_zfs_replication_bytes',
  /** Histogram: seconds a successful replicateDataset run took, snapshot to prune. */
  replicationDuration: 'esxi_zfs_replication_duration_seconds',
  /** Gauge: unix time of a dataset's last successful replication. */
  replicationLastSuccess: 'esxi_zfs_replication_last_success_timestamp_seconds',
  /** Histogram: seconds each runbook step (an activity attempt) took, by activity and workflow type. */
  stepDuration: 'esxi_zfs_step_duration_seconds',
} as const;

/** One replication's series: the source dataset, its host and the host it goes to. */
export function replicationLabels(job: Pick<ReplicationJob, 'source' | 'target'>): Record<'dataset' | 'sourceHost' | 'targetHost', string> {
  return { dataset: job.source.dataset, sourceHost: job.source.host.name, targetHost: job.target.host.name };
}

export type StepOutcome = 'completed' | 'failed' | 'cancelled';

/** A step's labels besides the activity type the SDK adds: the runbook it belongs to and how the attempt ended. */
export function stepLabels(workflowType: string | undefined, outcome: StepOutcome): Record<'workflowType' | 'outcome', string> {
  return { workflowType: workflowType ?? 'none', outcome };
}

/**
 * Bucket boundaries in seconds. Steps run from milliseconds (a listing) to hours (a first full
 * send); a replication run from seconds to a day (its schedule's period).
 */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [Metric.stepDuration]: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 14400],
  [Metric.replicationDuration]: [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400],
};
