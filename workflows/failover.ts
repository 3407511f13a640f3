/**
 * failover — the runbook's answer to a lost source storage VM, for one replicated dataset:
 *
 *   the source does not answer SSH (else refused, unless --force)   → probeStorageAnswers
 *   the replica has a replicated snapshot (else refused)            → readDatasetState
 *   fence: the dataset's schedules paused in both directions        → pauseReplicationSchedules
 *   fence: esxi-zfs:fenced on the replica (replicateDataset refuses) → setReplicaFence
 *   "clone before testing a replica": the newest replicated snapshot
 *   cloned with the source's mountpoint and share                  → cloneNewestReplicaSnapshot
 *   mounted as <datastore>-recovered on the surviving ESXi hosts   → mountNasDatastores
 *
 * The replica stream itself is never written: the next replication after failback stays incremental.
 * Every step reads first and changes only what differs: a second run changes nothing.
 */
import { ApplicationFailure, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { Failure, NON_RETRYABLE } from '../core/failures';
import { STEP_HEARTBEAT_TIMEOUT } from '../core/heartbeat-timeout';
import type { StepReport } from '../core/configure/shared';
import type { DatastoreActivities } from '../core/datastore/shared';
import {
  failoverProgressQuery, failoverWorkflowId, type FailoverInput, type FailoverResult, type FailoverStep, type RunbookProgress, type StepOutcome,
} from '../core/failover/shared';
import { byCreatetxg } from '../core/zfs/snapshot';
import { takenAt } from '../core/zfs/snapshot-name';
import type { createFailoverStorageActivities } from '../activities/failover/storage';
import type { createDatasetActivities } from '../activities/replication/datasets';
import type { createCloneActivities } from '../activities/replication/clone';
import type { createScheduleActivities } from '../activities/schedules/activities';

type Activities = ReturnType<typeof createFailoverStorageActivities> & ReturnType<typeof createDatasetActivities>
  & ReturnType<typeof createCloneActivities> & ReturnType<typeof createScheduleActivities> & DatastoreActivities;

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.failover] },
});

/** The note a failover pauses schedules with; failback unpauses only those. */
export const fenceNote = (input: { job: FailoverInput['job'] }) => `esxi-zfs ${failoverWorkflowId(input.job)}`;

const label = (ref: { host: { name: string }; dataset: string }) => `${ref.host.name}:${ref.dataset}`;
/** The failure's own message (an activity's cause). */
const messageOf = (error: unknown) => ((error as { cause?: Error }).cause ?? (error as Error)).message;

export async function failover(input: FailoverInput): Promise<FailoverResult> {
  const { job } = input;
  const progress: RunbookProgress = { step: 'probeSource', done: [], startedAt: new Date().toISOString() };
  setHandler(failoverProgressQuery, () => progress);
  const outcomes: StepOutcome<FailoverStep>[] = [];
  const step = async <T>(name: FailoverStep, run: () => Promise<T>, reportOf: (value: T) => StepReport): Promise<T> => {
    progress.step = name;
    const value = await run();
    outcomes.push({ step: name, report: reportOf(value) });
    progress.done.push(name);
    return value;
  };

  await step('probeSource', () => steps.probeStorageAnswers(job.source.host), ({ answers, detail }) => {
    if (answers && !input.force) {
      throw ApplicationFailure.nonRetryable(
        `${detail}: it is not down, and failing over would leave two writable copies of ${job.source.dataset}. If it is back after a failover, run esxi-zfs failback; to fail over anyway, pass --force`,
        Failure.SourceAnswers,
      );
    }
    return answers ? { found: [], changed: [], warnings: [`${detail}: failing over anyway (--force)`] } : { found: [detail], changed: [], warnings: [] };
  });

  const replica = await step('readReplica', () => steps.readDatasetState(job.target), (state) => {
    const newest = [...(state.snapshots ?? [])].sort(byCreatetxg).at(-1);
    if (!newest) {
      throw ApplicationFailure.nonRetryable(
        `${label(job.target)} has no replicated snapshot of ${label(job.source)} yet: there is nothing to fail over to`,
        Failure.ReplicaMissing,
      );
    }
    return { found: [`newest replicated snapshot ${job.target.dataset}@${newest.name} (${takenAt(job.snapshotPrefix, newest).toISOString()})`, ...(state.fence ? [`fenced (${state.fence})`] : [])], changed: [], warnings: [] };
  });
  const newest = [...(replica.snapshots ?? [])].sort(byCreatetxg).at(-1)!;

  await step('pauseSchedules', () => steps.pauseReplicationSchedules(input.fenceJobs, fenceNote(input)), (r) => r);
  await step('fenceReplica', () => steps.setReplicaFence(job.target, `${workflowInfo().workflowId} ${new Date().toISOString()}`), (r) => r);
  const clone = await step(
    'cloneReplica',
    () => steps.cloneNewestReplicaSnapshot({ replica: job.target, clone: input.clone, mountpoint: input.mountpoint, share: input.share, replace: false }),
    (c) => ({ found: c.changed.length === 0 ? [`${c.clone} is a clone of ${c.origin}`] : [], changed: c.changed, warnings: c.warnings }),
  );

  const datastores: string[] = [];
  const plan = input.datastores;
  await step('mountRecovered', async () => {
    if (!plan) return { found: [], changed: [], warnings: [`the inventory mounts no datastore for ${job.source.dataset}: ${clone.clone} is shared, mount it where it is needed`] };
    const hosts = await Promise.all(plan.survivors.map(async (host) => {
      try {
        return { host: host.name, report: await steps.mountNasDatastores(host, [plan.recovered]) };
      } catch (error) {
        return { host: host.name, failed: messageOf(error) };
      }
    }));
    const failed = hosts.filter((h) => h.failed !== undefined);
    if (failed.length > 0) {
      throw ApplicationFailure.nonRetryable(`${plan.recoveredName}: ${failed.map((h) => (h.failed!.startsWith(`${h.host}: `) ? h.failed : `${h.host}: ${h.failed}`)).join('; ')}; run failover again once fixed`, Failure.DatastoreHostsFailed);
    }
    for (const h of hosts) datastores.push(`${h.host}: ${plan.recoveredName}`);
    const reports = hosts.map((h) => h.report!);
    return {
      found: reports.flatMap((r) => r.found),
      changed: reports.flatMap((r) => r.changed),
      warnings: [...reports.flatMap((r) => r.warnings), ...(plan.survivors.length === 0 ? [`no surviving ESXi host mounts ${plan.name}: ${plan.recoveredName} mounted nowhere`] : [])],
    };
  }, (r) => r);
  progress.step = 'done';

  // The name's (workflow) time, not `creation`: the source host's clock may be hours off the worker's.
  const lastReplicated = takenAt(job.snapshotPrefix, newest);
  return {
    dataset: job.source.dataset,
    source: label(job.source),
    replica: label(job.target),
    clone: clone.clone,
    origin: clone.origin,
    lastReplicated: lastReplicated.toISOString(),
    lostWindowMs: Date.now() - lastReplicated.getTime(),
    datastores,
    steps: outcomes,
  };
}
