/**
 * failback — the original storage VM is back: the recovered copy (written during the failover)
 * goes home and the ring runs as before.
 *
 *   the original answers SSH (else refused)                          → probeStorageAnswers
 *   the state of original, replica, copy; what the original holds
 *   after the common snapshot is named, kept unless consented        → readFailbackState
 *   trust widened: the replica's host may send the copy back         → setupReplicationTrust (child)
 *   bulk sync while VMs still run on the recovered datastore        → snapshotRecoveredCopy, sendSnapshot
 *   cut-over: the recovered datastore unmounted (VMs on it: named,
 *   and the run stops until they are moved)                          → unmountNasDatastores
 *   the copy frozen (read-only, unshared), its final snapshot       → snapshotRecoveredCopy
 *   the last, small sync                                             → sendSnapshot
 *   the received copy swapped in for the original (promoted, renamed,
 *   the original's properties, mounted, shared; the original's
 *   state from before destroyed)                                     → swapInReceivedCopy
 *   the original datastore mounted on every host of the inventory    → mountNasDatastores
 *   trust back to the inventory's                                    → setupReplicationTrust (child)
 *   the fence lifted, one normal replication (incremental)           → clearReplicaFence, replicateDataset (child)
 *   the schedules resumed, the recovered copy destroyed              → unpauseReplicationSchedules, destroyRecoveredCopy
 *
 * Why a swap and not `zfs rollback -r` plus a receive into the original: the copy is a clone, and
 * its first stream (`zfs send -i replica@common copy@snap`) is a clone stream, which ZFS receives
 * only as a new dataset. So it is received beside the original and then takes its place; the
 * original's changes after the common snapshot go with it, which is what the consent is for.
 * Re-running after a failure at any step continues from what is already true.
 */
import { ApplicationFailure, executeChild, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { Failure, NON_RETRYABLE } from '../core/failures';
import { STEP_HEARTBEAT_TIMEOUT } from '../core/heartbeat-timeout';
import type { StepReport } from '../core/configure/shared';
import type { DatastoreActivities } from '../core/datastore/shared';
import {
  asideName, failoverProgressQuery, incomingName, type FailbackInput, type FailbackResult, type FailbackStep, type RunbookProgress, type StepOutcome,
} from '../core/failover/shared';
import { planFailback, syncBase } from '../core/failover/plan';
import { replicationSearchAttributes, replicationSummary, replicationWorkflowId, type ReplicationResult } from '../core/replication/shared';
import { Runbook, runSearchAttributes } from '../core/search-attributes';
import type { SetupReplicationTrustInput } from '../core/trust/shared';
import { snapshotName } from '../core/zfs/snapshot-name';
import type { Snapshot } from '../core/zfs/snapshot';
import type { createFailoverStorageActivities } from '../activities/failover/storage';
import type { createDatastoreUnmountActivities } from '../activities/vsphere/datastore-unmount';
import type { createTransferActivities } from '../activities/replication/transfer';
import type { createScheduleActivities } from '../activities/schedules/activities';
import { fenceNote } from './failover';
import { replicateDataset } from './replicate-dataset';
import { setupReplicationTrust } from './setup-replication-trust';

type Activities = ReturnType<typeof createFailoverStorageActivities> & ReturnType<typeof createScheduleActivities>
  & ReturnType<typeof createDatastoreUnmountActivities> & DatastoreActivities;

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 5, initialInterval: '2 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE.failover] },
});

const label = (ref: { host: { name: string }; dataset: string }) => `${ref.host.name}:${ref.dataset}`;
const messageOf = (error: unknown) => ((error as { cause?: Error }).cause ?? (error as Error)).message;
const none = (): StepReport => ({ found: [], changed: [], warnings: [] });
/**
 * The copy's snapshots are named `<prefix>-failback_<time>`: not the replication's own names, so
 * retention never prunes them; the final one stays on the original and the replica as the point
 * the failback happened (an operator destroys it when it is no longer wanted).
 */
const failbackPrefix = (prefix: string) => `${prefix}-failback`;

export async function failback(input: FailbackInput): Promise<FailbackResult> {
  const { job } = input;
  const id = workflowInfo().workflowId;
  const progress: RunbookProgress = { step: 'probeOriginal', done: [], startedAt: new Date().toISOString() };
  setHandler(failoverProgressQuery, () => progress);
  const outcomes: StepOutcome<FailbackStep>[] = [];
  const step = async <T>(name: FailbackStep, run: () => Promise<T>, reportOf: (value: T) => StepReport): Promise<T> => {
    progress.step = name;
    const value = await run();
    outcomes.push({ step: name, report: reportOf(value) });
    progress.done.push(name);
    return value;
  };
  const transfer = proxyActivities<ReturnType<typeof createTransferActivities>>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: '20 seconds',
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
    retry: {
      maximumAttempts: job.retry.maximumAttempts, initialInterval: job.retry.initialIntervalMs, maximumInterval: job.retry.maximumIntervalMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE.transfer],
    },
  });

  const original = job.source;
  const copy = { host: job.target.host, dataset: input.clone };
  const incoming = incomingName(original.dataset);

  await step('probeOriginal', () => steps.probeStorageAnswers(original.host), ({ answers, detail }) => {
    if (!answers) throw ApplicationFailure.nonRetryable(`${detail}: failback needs the original storage VM back; run it again once it answers`, Failure.OriginalDown);
    return { found: [detail], changed: [], warnings: [] };
  });

  const facts = await step(
    'inspect',
    () => steps.readFailbackState({ original, replica: job.target, clone: copy, incoming, aside: asideName(original.dataset) }),
    () => none(),
  );
  const plan = planFailback(facts, { original: label(original), clone: label(copy) });
  if (plan.kind === 'nothing') {
    outcomes.at(-1)!.report.found.push(plan.why);
    progress.step = 'done';
    return { dataset: original.dataset, nothingToDo: plan.why, discarded: [], copy: 'none', steps: outcomes };
  }
  if (plan.kind === 'refuse') throw ApplicationFailure.nonRetryable(`${label(original)}: ${plan.message}`, plan.type);
  const inspected = outcomes.at(-1)!.report;
  inspected.found.push(`common snapshot ${plan.origin.full} (guid ${plan.origin.guid})`);
  if (!plan.swapped && plan.changes.length > 0) {
    if (!input.discardChanges) {
      throw ApplicationFailure.create({
        nonRetryable: true,
        type: Failure.FailbackNeedsConsent,
        message: `${label(original)} holds changes made after the common snapshot @${plan.origin.full.split('@')[1]}; failback would discard them:\n${plan.changes.map((c) => `  ${c}`).join('\n')}\nCopy off what must be kept, then run failback again with --discard-changes-after-common-snapshot`,
        details: [plan.changes],
      });
    }
    inspected.warnings.push(`discarding what ${label(original)} holds after the common snapshot (consent given): ${plan.changes.join('; ')}`);
  }

  let final = plan.final;
  if (!plan.swapped) {
    const widened: SetupReplicationTrustInput = {
      ...input.trust,
      edges: [...input.trust.edges, { source: job.target.host, target: original.host, targetDataset: incoming }],
    };
    await step('openTrust', () => trustChild(widened, `${id}/trust-open`), (r) => r);

    let copySnapshots = [...facts.clone!.snapshots];
    let received = facts.incoming;
    /** Sends the copy's snapshot to the incoming dataset, incrementally from what it has (the clone's origin at first). */
    const sync = async (snapshot: Snapshot): Promise<StepReport> => {
      copySnapshots = [...copySnapshots.filter((s) => s.guid !== snapshot.guid), snapshot];
      const base = syncBase(copySnapshots, received);
      if (base?.guid === snapshot.guid) return { found: [`${original.host.name}:${incoming} has @${snapshot.name}`], changed: [], warnings: [] };
      const from = base ? `${copy.dataset}@${base.name}` : plan.origin.full;
      const sent = await transfer.sendSnapshot({
        source: copy, target: { host: original.host, dataset: incoming }, user: job.user,
        sendArgs: ['-i', from, `${copy.dataset}@${snapshot.name}`], flags: [], resumable: false, expectGuid: snapshot.guid,
        stallTimeoutMs: job.stallTimeoutMs, ciphers: job.sshCiphers, createParent: false, recursive: false,
      });
      received = sent.targetSnapshots;
      return { found: [], changed: [`sent ${from}..@${snapshot.name} to ${original.host.name}:${incoming}: ${sent.bytes} bytes in ${sent.durationMs} ms`], warnings: sent.warnings };
    };

    let bulkName: string | undefined;
    if (!facts.clone!.finalSnapshot) {
      await step('bulkSync', async () => {
        bulkName = snapshotName(failbackPrefix(job.snapshotPrefix), new Date());
        const { snapshot, report } = await steps.snapshotRecoveredCopy({ clone: copy, name: bulkName, freeze: false });
        const synced = await sync(snapshot);
        return { found: [...report.found, ...synced.found], changed: [...report.changed, ...synced.changed], warnings: synced.warnings };
      }, (r) => r);
    }

    await step('unmountRecovered', async () => {
      const hosts = input.datastores?.survivors ?? [];
      const unmounted = await Promise.all(hosts.map((host) => steps.unmountNasDatastores(host, [input.datastores!.recoveredName])));
      const vms = unmounted.flatMap((u, i) => u.vms.map((vm) => `${hosts[i]!.name}: ${vm}`));
      if (vms.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `the cut-over waits: VMs are registered on the recovered datastore; shut them down and move them (unregister, or Storage vMotion to ${input.datastores!.name}), then run failback again:\n  ${vms.join('\n  ')}`,
          Failure.FailbackVmsOnRecovered,
        );
      }
      return { found: unmounted.flatMap((u) => u.report.found), changed: unmounted.flatMap((u) => u.report.changed), warnings: [] };
    }, (r) => r);

    // The final snapshot is taken after the freeze: never under the bulk snapshot's name (one name per second).
    if (bulkName === snapshotName(failbackPrefix(job.snapshotPrefix), new Date())) await sleep('1 second');
    const frozen = await step('freezeCopy', () => steps.snapshotRecoveredCopy({ clone: copy, name: snapshotName(failbackPrefix(job.snapshotPrefix), new Date()), freeze: true }), (r) => r.report);
    const last = frozen.snapshot;
    final = last;
    await step('finalSync', () => sync(last), (r) => r);
    await step('swapIn', () => steps.swapInReceivedCopy({ original, incoming, aside: asideName(original.dataset), finalGuid: last.guid }), (r) => r);
  }

  await step('mountOriginal', async () => {
    const ds = input.datastores;
    if (!ds) return { found: [], changed: [], warnings: [`the inventory mounts no datastore for ${original.dataset}`] };
    const hosts = await Promise.all(ds.all.map(async (host) => {
      try {
        return await steps.mountNasDatastores(host, [ds.original]);
      } catch (error) {
        return { found: [], changed: [], warnings: [`${host.name}: ${ds.name} not mounted: ${messageOf(error)}`] };
      }
    }));
    return { found: hosts.flatMap((h) => h.found), changed: hosts.flatMap((h) => h.changed), warnings: hosts.flatMap((h) => h.warnings) };
  }, (r) => r);

  // Also after a swap found done: a run that stopped between the swap and here left the extra edge.
  await step('closeTrust', () => trustChild(input.trust, `${id}/trust-close`), (r) => r);
  await step('liftFence', () => steps.clearReplicaFence(job.target), (r) => r);

  const replication = await step('replicate', async () => {
    try {
      return await executeChild(replicateDataset, {
        workflowId: replicationWorkflowId(job),
        args: [job],
        typedSearchAttributes: replicationSearchAttributes(job),
        staticSummary: `${replicationSummary(job)} (after failback)`,
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return undefined;
      throw error;
    }
  }, (r): StepReport => (r
    ? { found: [], changed: [`${r.kind} replication ${r.base ? `from @${r.base} ` : ''}to @${r.snapshot}: ${r.bytes} bytes`], warnings: r.kind === 'full' ? ['the replication after failback was a full send'] : [] }
    : { found: [], changed: [], warnings: [`a replication of ${original.dataset} was already running: the recovered copy is kept until a run succeeds`] }));

  await step('unpauseSchedules', () => steps.unpauseReplicationSchedules(input.fenceJobs, fenceNote(input)), (r) => r);

  const kept = `kept ${label(copy)}: destroy it (zfs destroy -r) once a replication of ${original.dataset} has succeeded`;
  const destroyed = await step('destroyCopy', async () => {
    if (!replication || !final) return { found: [], changed: [], warnings: [kept] };
    return steps.destroyRecoveredCopy({ clone: copy, origin: plan.origin.full, finalGuid: final.guid, holders: [original, job.target] });
  }, (r) => r);
  progress.step = 'done';

  return {
    dataset: original.dataset,
    discarded: plan.swapped ? [] : plan.changes,
    ...(final && { finalSnapshot: final.name }),
    ...(replication && { replication: pick(replication) }),
    copy: destroyed.changed[0] ?? destroyed.warnings[0] ?? destroyed.found[0] ?? '',
    steps: outcomes,
  };
}

const pick = (r: ReplicationResult) => ({ kind: r.kind, ...(r.base && { base: r.base }), snapshot: r.snapshot, bytes: r.bytes });

/** setupReplicationTrust as a child; its changes as one step's report. */
async function trustChild(input: SetupReplicationTrustInput, workflowId: string): Promise<StepReport> {
  const result = await executeChild(setupReplicationTrust, {
    workflowId,
    args: [input],
    typedSearchAttributes: runSearchAttributes(Runbook.trust, { hosts: input.hosts.map((h) => h.name) }),
    staticSummary: `replication trust for ${input.hosts.map((h) => h.name).join(', ')} (failback)`,
  });
  return {
    found: result.changes === 0 ? ['replication trust in place'] : [],
    changed: result.hosts.flatMap((h) => h.steps.flatMap((s) => s.changed.map((c) => `${h.host}: ${c}`))),
    warnings: result.hosts.flatMap((h) => h.steps.flatMap((s) => s.warnings.map((w) => `${h.host}: ${w}`))),
  };
}
