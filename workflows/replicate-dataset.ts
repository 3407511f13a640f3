/**
 * replicateDataset: one run of the runbook's nightly `zfs-daily-rpl.sh` for one dataset.
 * Snapshot, find the newest common snapshot by guid, send host to host, prune by retention.
 * One run per dataset at a time: every run of a dataset has the same workflow id.
 */
import {
  ActivityFailure, ApplicationFailure, log, metricMeter, patched, proxyActivities, proxyLocalActivities, setHandler, sleep, type RetryPolicy,
} from '@temporalio/workflow';
import type { createDatasetActivities } from '../activities/replication/datasets';
import type { createTransferActivities } from '../activities/replication/transfer';
import type { createResumeActivities } from '../activities/replication/resume';
import type { DatasetState } from '../activities/replication/datasets';
import { describeConflict, planReplication, type ReplicationPlan } from '../core/zfs/plan';
import { planRetention } from '../core/zfs/retention';
import { snapshotName } from '../core/zfs/snapshot-name';
import { commonCapabilities } from '../core/zfs/capabilities';
import { sendFlags } from '../core/zfs/send-flags';
import { progressQuery, type ReplicationJob, type ReplicationProgress, type ReplicationResult } from '../core/replication/shared';
import { Failure, NON_RETRYABLE } from '../core/failures';
import type { Snapshot } from '../core/zfs/snapshot';
import { Metric, replicationLabels } from '../core/metrics';

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
  const run: Run = { job, activities: activitiesFor(job), warnings: [] };

  // 1. Read the target (a failover's fence stops the run here), snapshot the source (a name that
  //    sorts by time, says it is ours, in UTC: workflow time), and start the source's ssh connection
  //    to the target: its handshake goes on in the background while the run plans and holds the base.
  const first = await snapshotAndRead(run);
  const name = first.snapshot.name;
  progress = { phase: 'inspect', snapshot: name };

  // 2. Finish or clear an interrupted resumable receive first.
  const state = await finishInterruptedReceive(run, first.state);

  // 3. Plan by guid; a diverged target stops here, explained, with nothing destroyed.
  const { plan, rollbackTo } = planOrStop(job, state);
  progress = { phase: 'inspect', kind: plan.kind, base: baseOf(plan)?.name, snapshot: name };

  // 4. Roll a diverged target back (only where its policy allows, only to the base), then send,
  //    the base held on both ends while the stream runs.
  let rolledBackTo: string | undefined;
  if (rollbackTo) {
    progress = { ...progress, phase: 'rollback' };
    rolledBackTo = await rollBack(run, rollbackTo);
  }
  let sent: Sent = { bytes: 0, durationMs: 0, targetSnapshots: state.target.snapshots ?? [], replicaChanged: [] };
  if (plan.kind !== 'up-to-date') {
    progress = { ...progress, phase: 'send' };
    sent = await send(run, plan, state);
  }
  countSent(job, sent.bytes); // 0 when up to date: every replicated dataset has its series

  // 5. Retention on each side separately; the newest common snapshot is never pruned.
  progress = { ...progress, phase: 'prune' };
  const newestCommon = newestOf(plan);
  // Both lists were read without this run's holds: the source's before them, the target's after.
  const pruned = await prune(run, newestCommon, { source: state.source.snapshots ?? [first.snapshot], target: sent.targetSnapshots });

  progress = { ...progress, phase: 'done' };
  const result = report(run, { plan, sent, pruned, rolledBackTo, durationMs: Date.now() - started });
  recordSuccess(job, result);
  return result;
}

/**
 * Bytes a stream of this run delivered to the target (a resumed one's too), counted as soon as the
 * target has them: a later step failing does not take them back. Metrics from workflow code are
 * not emitted while a worker replays history, so each run counts once.
 */
function countSent(job: ReplicationJob, bytes: number): void {
  metricMeter.createCounter(Metric.replicationBytes, 'bytes', 'Bytes of replication streams the target received').add(bytes, replicationLabels(job));
}

/** The run's duration and the dataset's last success (workflow time), and its line in the worker's log. */
function recordSuccess(job: ReplicationJob, result: ReplicationResult): void {
  const labels = replicationLabels(job);
  metricMeter.createHistogram(Metric.replicationDuration, 'float', 's', 'Seconds a successful replication run took').record(result.durationMs / 1000, labels);
  metricMeter.createGauge(Metric.replicationLastSuccess, 'int', 's', 'Unix time of the last successful replication of a dataset').set(Math.floor(Date.now() / 1000), labels);
  log.info('replication done', { source: result.source, target: result.target, kind: result.kind, snapshot: result.snapshot, bytes: result.bytes, durationMs: result.durationMs });
}

/** What every step of one run reads, and where each adds its warnings (in the order they happen). */
interface Run {
  job: ReplicationJob;
  activities: ReturnType<typeof activitiesFor>;
  warnings: string[];
}

/** Both ends as read. */
interface EndStates {
  source: DatasetState;
  target: DatasetState;
}

/** A plan that gets past planning: a conflict stops the run there. */
type Plan = Exclude<ReplicationPlan, { kind: 'conflict' }>;

/** What the send step leaves for retention and the report (nothing sent: the target as read). */
interface Sent {
  bytes: number;
  durationMs: number;
  targetSnapshots: Snapshot[];
  replicaChanged: string[];
}

/** The common base the plan sends from (source-side); none for a full send. */
function baseOf(plan: Plan): Snapshot | undefined {
  return plan.kind === 'full' ? undefined : plan.base;
}

/** The newest snapshot both ends have once the plan is carried out. */
function newestOf(plan: Plan): Snapshot {
  return plan.kind === 'up-to-date' ? plan.base : plan.kind === 'full' ? plan.snapshot : plan.target;
}

/**
 * Step 1: the target's state first (a fenced replica stops the run before either end is touched:
 * no snapshot is left on a source that a failback will compare), then the source's new snapshot,
 * the shared connection started meanwhile.
 */
async function snapshotAndRead({ job, activities: { firstSteps } }: Run): Promise<{ snapshot: Snapshot; state: EndStates }> {
  const { source, target } = job;
  const readTarget = () => firstSteps.readDatasetState.executeWithOptions(on('target', target), [target]);
  const refuseFenced = (state: Awaited<ReturnType<typeof readTarget>>) => {
    if (!state.fence) return;
    throw ApplicationFailure.nonRetryable(
      `${label(target)} is fenced by a failover (${state.fence}): no replication writes it until \`esxi-zfs failback\` of ${label(source)} has run`,
      Failure.ReplicaFenced,
    );
  };
  const connect = () => firstSteps.openSharedConnection({ source, target, user: job.user, ciphers: job.sshCiphers });
  if (!patched(READ_TARGET_FIRST)) {
    // Runs started before the fence read the target beside the snapshot: replayed as they ran.
    const [made, targetState] = await Promise.all([takeSnapshot(job, firstSteps), readTarget(), connect()]);
    refuseFenced(targetState);
    return { snapshot: made.snapshot, state: { source: made.state, target: targetState } };
  }
  const targetState = await readTarget();
  refuseFenced(targetState);
  const [made] = await Promise.all([takeSnapshot(job, firstSteps), connect()]);
  return { snapshot: made.snapshot, state: { source: made.state, target: targetState } };
}

/** The patch that made the target's read come first (the failover fence). */
const READ_TARGET_FIRST = 'read-target-before-snapshot';

/** The source's snapshot named for workflow time (the next second's name when an earlier run took this one). */
async function takeSnapshot(job: ReplicationJob, firstSteps: Run['activities']['firstSteps']) {
  for (;;) {
    const made = await firstSteps.createSnapshot({ ...job.source, name: snapshotName(job.snapshotPrefix, new Date()), recursive: job.recursive });
    if (!('taken' in made)) return made;
    // An earlier run took a snapshot in this same second: take the next second's name.
    await sleep('1 second');
  }
}

/** Step 2: the target's resume token, if any, sent to its end or cleared; both ends read again after. */
async function finishInterruptedReceive(run: Run, state: EndStates): Promise<EndStates> {
  const { job, activities: { steps, transferSteps } } = run;
  const { source, target } = job;
  const resumeToken = state.target.resumeToken;
  if (!resumeToken) return state;
  const token = await steps.inspectResumeToken({ ...source, token: resumeToken });
  if (token.toguid) {
    const resumed = await transferSteps.sendSnapshot({ source, target, user: job.user, sendArgs: ['-t', resumeToken], flags: [], resumable: true, expectGuid: token.toguid, stallTimeoutMs: job.stallTimeoutMs, ciphers: job.sshCiphers });
    countSent(job, resumed.bytes);
  } else {
    await steps.abortPartialReceive(target);
    run.warnings.push(`cleared a stale resume token on ${label(target)}: ${token.reason}`);
  }
  const [sourceState, targetAfter] = await Promise.all([
    steps.readDatasetState.executeWithOptions(on('source', source), [source]),
    steps.readDatasetState.executeWithOptions(on('target', target), [target]),
  ]);
  return { source: sourceState, target: targetAfter };
}

/** Step 3: the plan by guid, or the run failed non-retryably with the conflict explained. */
function planOrStop(job: ReplicationJob, state: EndStates): { plan: Plan; rollbackTo?: Snapshot } {
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
  return { plan, rollbackTo };
}

/** Step 4, the rollback: the target rolled back to the base (as named there); returns that name. */
async function rollBack({ job: { target }, activities: { steps } }: Run, rollbackTo: Snapshot): Promise<string> {
  await steps.rollbackTarget({ ...target, snapshot: rollbackTo.name, expectedGuid: rollbackTo.guid });
  return rollbackTo.name;
}

/** Step 4, the send: the flags both pools support, the base held on both ends (where both can hold). */
async function send(run: Run, plan: Exclude<Plan, { kind: 'up-to-date' }>, state: EndStates): Promise<Sent> {
  const { job, activities: { transferSteps } } = run;
  const { source, target } = job;
  const { flags, warnings: flagWarnings } = sendFlags({
    options: job.send,
    recursive: job.recursive,
    common: commonCapabilities(state.source.pool.capabilities, state.target.pool.capabilities),
    sourcePoolVersion: state.source.pool.version,
  });
  run.warnings.push(...flagWarnings);
  const newest = newestOf(plan);
  const sendArgs = plan.kind === 'full'
    ? [`${source.dataset}@${newest.name}`]
    : [plan.intermediates ? '-I' : '-i', `@${plan.base.name}`, `${source.dataset}@${newest.name}`];
  const holds = state.source.pool.capabilities.holds && state.target.pool.capabilities.holds;
  const sent = await transferSteps.sendSnapshot({
    source, target, user: job.user, sendArgs, flags,
    resumable: state.target.pool.capabilities.resumeTokens,
    expectGuid: newest.guid,
    stallTimeoutMs: job.stallTimeoutMs,
    ciphers: job.sshCiphers,
    // Each side's own name for the base: it may have been renamed on either (matched by guid).
    hold: plan.kind === 'incremental' && holds ? { tag: HOLD_TAG, source: plan.base.name, target: plan.baseOnTarget.name } : undefined,
    createParent: plan.kind === 'full',
    recursive: job.recursive,
    estimate: { snapshot: newest.name, base: baseOf(plan)?.name },
  }).catch((error: unknown) => {
    throw explainRefusal(error, job, plan.kind === 'incremental' ? { source: plan.base, target: plan.baseOnTarget } : undefined);
  });
  run.warnings.push(...sent.warnings);
  return { bytes: sent.bytes, durationMs: sent.durationMs, targetSnapshots: sent.targetSnapshots, replicaChanged: sent.replicaChanged };
}

/** Step 5: each side's retention destroyed (never `newestCommon`); the names destroyed per side. */
async function prune(run: Run, newestCommon: Snapshot, lists: { source: Snapshot[]; target: Snapshot[] }): Promise<ReplicationResult['pruned']> {
  const { job, activities } = run;
  const now = new Date();
  const retention = (snapshots: Snapshot[]) =>
    planRetention({ snapshots, prefix: job.snapshotPrefix, rules: job.retention, protect: [newestCommon.guid], now })
      .prune.map((s) => s.name);
  const [prunedSource, prunedTarget] = await Promise.all(
    [
      { side: 'source' as const, ref: job.source, names: retention(lists.source) },
      { side: 'target' as const, ref: job.target, names: retention(lists.target) },
    ].map(async ({ side, ref, names }) => {
      if (names.length === 0) return [];
      const { destroyed, kept } = await activities.prune.destroySnapshots.executeWithOptions(on(side, ref), [{ ...ref, names, prefix: job.snapshotPrefix, protect: [newestCommon.guid] }]);
      run.warnings.push(...kept.map((k) => `kept ${label(ref)}@${k}`));
      return destroyed;
    }),
  );
  return { source: prunedSource!, target: prunedTarget! };
}

/** The run's result: what was planned, sent, rolled back and pruned, with every warning. */
function report(
  { job, warnings }: Run,
  outcome: { plan: Plan; sent: Sent; pruned: ReplicationResult['pruned']; rolledBackTo?: string; durationMs: number },
): ReplicationResult {
  const { plan, sent, rolledBackTo } = outcome;
  return {
    source: label(job.source),
    target: label(job.target),
    kind: plan.kind,
    base: baseOf(plan)?.name,
    snapshot: newestOf(plan).name,
    bytes: sent.bytes,
    durationMs: outcome.durationMs,
    bytesPerSecond: sent.durationMs > 0 ? Math.round((sent.bytes * 1000) / sent.durationMs) : 0,
    pruned: outcome.pruned,
    rolledBackTo,
    ...(sent.replicaChanged.length > 0 ? { replicaChanged: sent.replicaChanged } : {}),
    warnings,
  };
}
