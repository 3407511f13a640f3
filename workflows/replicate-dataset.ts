/**
 * replicateDataset: one run of the runbook's nightly `zfs-daily-rpl.sh` for one dataset.
 * Snapshot, find the newest common snapshot by guid, send host to host, prune by retention.
 * One run per dataset at a time: every run of a dataset has the same workflow id.
 */
import {
  ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities, setHandler, sleep, type RetryPolicy,
} from '@temporalio/workflow';
import type { createDatasetActivities } from '../activities/replication/datasets';
import type { createTransferActivities } from '../activities/replication/transfer';
import type { createResumeActivities } from '../activities/replication/resume';
import { describeConflict, planReplication } from '../core/zfs/plan';
import { planRetention } from '../core/zfs/retention';
import { snapshotName } from '../core/zfs/snapshot-name';
import { commonCapabilities } from '../core/zfs/capabilities';
import { sendFlags } from '../core/zfs/send-flags';
import { progressQuery, type ReplicationJob, type ReplicationProgress, type ReplicationResult } from '../core/replication/shared';
import { Failure, NON_RETRYABLE } from '../core/failures';
import type { Snapshot } from '../core/zfs/snapshot';

type DatasetActivities = ReturnType<typeof createDatasetActivities>;
type TransferActivities = ReturnType<typeof createTransferActivities>;
type ResumeActivities = ReturnType<typeof createResumeActivities>;

const HOLD_TAG = 'esxi-zfs-replication';

/** The inventory's `replication.retry`, for every step of the run. */
function retryPolicy(job: ReplicationJob, nonRetryable: readonly string[]): RetryPolicy {
  return {
    maximumAttempts: job.retry.maximumAttempts,
    initialInterval: job.retry.initialIntervalMs,
    maximumInterval: job.retry.maximumIntervalMs,
    nonRetryableErrorTypes: [...nonRetryable],
  };
}

/** The activities of one run, with the job's retry policy. */
function activitiesFor(job: ReplicationJob) {
  const retry = retryPolicy(job, NON_RETRYABLE.replicationSteps);
  return {
    steps: proxyActivities<DatasetActivities & ResumeActivities>({ startToCloseTimeout: '10 minutes', retry }),
    /**
     * Pruning heartbeats the names it destroyed: a worker that dies meanwhile is noticed within
     * seconds, and the retry reports what the dead attempt destroyed.
     */
    prune: proxyActivities<Pick<DatasetActivities, 'destroySnapshots'>>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '20 seconds', retry }),
    /**
     * The first steps (a snapshot, two listings, starting the ssh connection: tens of milliseconds)
     * run as local activities: the worker runs them inside the workflow task, with no server round
     * trip between them and the plan. History records each as a marker with its result.
     */
    firstSteps: proxyLocalActivities<DatasetActivities & Pick<TransferActivities, 'openSharedConnection'>>({ startToCloseTimeout: '3 minutes', retry }),
    transferSteps: proxyActivities<TransferActivities>({
      startToCloseTimeout: '24 hours',
      // Only to notice a dead worker (the stall watchdog runs inside the activity, which heartbeats
      // every second whatever the stream does): a killed worker's send is retried this soon.
      heartbeatTimeout: '20 seconds',
      cancellationType: 'WAIT_CANCELLATION_COMPLETED',
      retry: retryPolicy(job, NON_RETRYABLE.transfer),
    }),
  };
}

const label = (ref: { host: { name: string }; dataset: string }) => `${ref.host.name}:${ref.dataset}`;
/** The UI's line for an activity that runs on both sides in one run. */
const on = (side: 'source' | 'target', ref: { host: { name: string }; dataset: string }) => ({ summary: `${side} ${label(ref)}` });

/** `zfs receive` refusing a modified target: the same explanation planning gives, from the snapshots planned with. */
function explainRefusal(error: unknown, job: ReplicationJob, base: { source: Snapshot; target: Snapshot } | undefined): unknown {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== Failure.TargetModified || !base) return error;
  return ApplicationFailure.nonRetryable(
    describeConflict({ type: Failure.TargetModified, base: base.source, baseOnTarget: base.target }, endpoints(job)),
    Failure.TargetModified,
  );
}

const endpoints = ({ source, target }: ReplicationJob) => ({
  source: { host: source.host.name, dataset: source.dataset },
  target: { host: target.host.name, dataset: target.dataset },
});

export async function replicateDataset(job: ReplicationJob): Promise<ReplicationResult> {
  let progress: ReplicationProgress = { phase: 'snapshot' };
  setHandler(progressQuery, () => progress);
  const started = Date.now();
  const { source, target } = job;
  const { steps, prune, firstSteps, transferSteps: { sendSnapshot } } = activitiesFor(job);
  const warnings: string[] = [];

  // 1. Snapshot the source (a name that sorts by time, says it is ours, in UTC: workflow time),
  //    read the target meanwhile, and start the source's ssh connection to the target: its
  //    handshake goes on in the background while the run plans and holds the base.
  const takeSnapshot = async () => {
    for (;;) {
      const made = await firstSteps.createSnapshot({ ...source, name: snapshotName(job.snapshotPrefix, new Date()), recursive: job.recursive });
      if (!('taken' in made)) return made;
      // An earlier run took a snapshot in this same second: take the next second's name.
      await sleep('1 second');
    }
  };
  const [made, targetState] = await Promise.all([
    takeSnapshot(),
    firstSteps.readDatasetState.executeWithOptions(on('target', target), [target]),
    firstSteps.openSharedConnection({ source, target, user: job.user, ciphers: job.sshCiphers }),
  ]);
  const name = made.snapshot.name;
  let state = { source: made.state, target: targetState };
  progress = { phase: 'inspect', snapshot: name };

  // 2. Finish or clear an interrupted resumable receive first.
  if (state.target.resumeToken) {
    const token = await steps.inspectResumeToken({ ...source, token: state.target.resumeToken });
    if (token.toguid) {
      await sendSnapshot({ source, target, user: job.user, sendArgs: ['-t', state.target.resumeToken], flags: [], resumable: true, expectGuid: token.toguid, stallTimeoutMs: job.stallTimeoutMs, ciphers: job.sshCiphers });
    } else {
      await steps.abortPartialReceive(target);
      warnings.push(`cleared a stale resume token on ${label(target)}: ${token.reason}`);
    }
    const [sourceState, targetAfter] = await Promise.all([
      steps.readDatasetState.executeWithOptions(on('source', source), [source]),
      steps.readDatasetState.executeWithOptions(on('target', target), [target]),
    ]);
    state = { source: sourceState, target: targetAfter };
  }

  // 3. Plan by guid; a diverged target stops here, explained, with nothing destroyed.
  const { plan, rollbackTo } = planReplication({
    source: state.source.snapshots ?? [],
    target: state.target.snapshots,
    targetWrittenSinceBase: state.target.writtenBytes,
    sendIntermediates: job.intermediates,
    rollbackAllowed: job.rollback,
  });
  if (plan.kind === 'conflict') {
    throw ApplicationFailure.nonRetryable(describeConflict(plan.conflict, endpoints(job)), plan.conflict.type);
  }
  const base = plan.kind === 'full' ? undefined : plan.base;
  progress = { phase: 'inspect', kind: plan.kind, base: base?.name, snapshot: name };

  // 4. Roll a diverged target back (only where its policy allows, only to the base), then send,
  //    the base held on both ends while the stream runs.
  let bytes = 0;
  let transferMs = 0;
  let targetSnapshots = state.target.snapshots ?? [];
  let rolledBackTo: string | undefined;
  let replicaChanged: string[] = [];
  if (rollbackTo) {
    progress = { ...progress, phase: 'rollback' };
    await steps.rollbackTarget({ ...target, snapshot: rollbackTo.name, expectedGuid: rollbackTo.guid });
    rolledBackTo = rollbackTo.name;
  }
  if (plan.kind !== 'up-to-date') {
    progress = { ...progress, phase: 'send' };
    const { flags, warnings: flagWarnings } = sendFlags({
      options: job.send,
      recursive: job.recursive,
      common: commonCapabilities(state.source.pool.capabilities, state.target.pool.capabilities),
      sourcePoolVersion: state.source.pool.version,
    });
    warnings.push(...flagWarnings);
    const newest = plan.kind === 'full' ? plan.snapshot : plan.target;
    const sendArgs = plan.kind === 'full'
      ? [`${source.dataset}@${newest.name}`]
      : [plan.intermediates ? '-I' : '-i', `@${plan.base.name}`, `${source.dataset}@${newest.name}`];
    const holds = state.source.pool.capabilities.holds && state.target.pool.capabilities.holds;
    const sent = await sendSnapshot({
      source, target, user: job.user, sendArgs, flags,
      resumable: state.target.pool.capabilities.resumeTokens,
      expectGuid: newest.guid,
      stallTimeoutMs: job.stallTimeoutMs,
      ciphers: job.sshCiphers,
      // Each side's own name for the base: it may have been renamed on either (matched by guid).
      hold: plan.kind === 'incremental' && holds ? { tag: HOLD_TAG, source: plan.base.name, target: plan.baseOnTarget.name } : undefined,
      createParent: plan.kind === 'full',
      recursive: job.recursive,
      estimate: { snapshot: newest.name, base: base?.name },
    }).catch((error: unknown) => {
      throw explainRefusal(error, job, plan.kind === 'incremental' ? { source: plan.base, target: plan.baseOnTarget } : undefined);
    });
    bytes = sent.bytes;
    transferMs = sent.durationMs;
    targetSnapshots = sent.targetSnapshots;
    replicaChanged = sent.replicaChanged;
    warnings.push(...sent.warnings);
  }

  // 5. Retention on each side separately; the newest common snapshot is never pruned.
  progress = { ...progress, phase: 'prune' };
  const newestCommon = plan.kind === 'up-to-date' ? plan.base : plan.kind === 'full' ? plan.snapshot : plan.target;
  const now = new Date();
  // Both lists were read without this run's holds: the source's before them, the target's after.
  const retention = (snapshots: typeof targetSnapshots) =>
    planRetention({ snapshots, prefix: job.snapshotPrefix, rules: job.retention, protect: [newestCommon.guid], now })
      .prune.map((s) => s.name);
  const [prunedSource, prunedTarget] = await Promise.all(
    [
      { side: 'source' as const, ref: source, names: retention(state.source.snapshots ?? [made.snapshot]) },
      { side: 'target' as const, ref: target, names: retention(targetSnapshots) },
    ].map(async ({ side, ref, names }) => {
      if (names.length === 0) return [];
      const { destroyed, kept } = await prune.destroySnapshots.executeWithOptions(on(side, ref), [{ ...ref, names, prefix: job.snapshotPrefix, protect: [newestCommon.guid] }]);
      warnings.push(...kept.map((k) => `kept ${label(ref)}@${k}`));
      return destroyed;
    }),
  );

  progress = { ...progress, phase: 'done' };
  return {
    source: label(source),
    target: label(target),
    kind: plan.kind,
    base: base?.name,
    snapshot: newestCommon.name,
    bytes,
    durationMs: Date.now() - started,
    bytesPerSecond: transferMs > 0 ? Math.round((bytes * 1000) / transferMs) : 0,
    pruned: { source: prunedSource!, target: prunedTarget! },
    rolledBackTo,
    ...(replicaChanged.length > 0 ? { replicaChanged } : {}),
    warnings,
  };
}
