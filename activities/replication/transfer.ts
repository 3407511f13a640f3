/**
 * The stream itself: the source host pipes `zfs send` to the target over SSH as the replication
 * user. The worker holds the common base on both ends, starts the stream, reads its byte count,
 * heartbeats it, stops it (the whole process group on the source) when it stalls or the workflow
 * is cancelled, checks that the target has the snapshot, and releases the holds. It heartbeats
 * every second from start to end, whatever the stream does, so that a dead worker is noticed
 * within the short heartbeat timeout; a retry first stops the stream the dead attempt left on the
 * source and releases the holds its killed zfs send left (both pids are in the last heartbeat).
 * One activity:
 * each step less is one workflow round trip less on every run (measured in bench-replication).
 * openSharedConnection starts the source's ssh connection to the target at the start of a run,
 * so that the stream finds it authenticated (connection.ts). Running and watching the stream is
 * stream.ts, why it failed stream-failure.ts, stopping what it left on the source stream-stop.ts.
 */
import { Failure } from '../../core/failures';
import { ApplicationFailure } from '@temporalio/common';
import { startHeartbeat } from '../heartbeat';
import { sh } from '../../core/quote';
import type { Transport } from '../transport';
import type { Snapshot } from '../../core/zfs/snapshot';
import { homeLookup } from './send-command';
import { byteCounterProbe, parseByteCounter, type ByteCounter } from './byte-counter';
import { ensureParentDataset, holdSnapshot, releaseSnapshot, snapshotsOf, type DatasetRef } from './datasets';
import { protectReplica, type ReplicaProtection } from './replica';
import { clearlyShort, noRoomFailure, readRoom, type StreamEstimate } from './space';
import { openSharedConnection, type SharedConnectionInput } from './connection';
import { runStream, type SendHeartbeat } from './stream';
import { stopLeftovers } from './stream-stop';
import { stepLog } from '../context';

export interface TransferInput {
  source: DatasetRef;
  target: DatasetRef;
  user: string;
  /** `zfs send` arguments after the flags: [-I|-i, @base,] dataset@snapshot, or [-t, token]. */
  sendArgs: string[];
  flags: string[];
  resumable: boolean;
  /** The guid the target must have when the stream is in: the sent snapshot's. */
  expectGuid: string;
  stallTimeoutMs: number;
  /** ssh -c for the stream, most preferred first. */
  ciphers: string[];
  /** The common base, held (`zfs hold TAG`) on each end while the stream runs and released after. */
  hold?: { tag: string; source: string; target: string };
  /** A full send: create the target's parent first where it is missing (`zfs create -p`). */
  createParent?: boolean;
  /** The replica is a tree (`zfs send -R`): protect each of its datasets. */
  recursive?: boolean;
  /** The source snapshots that size the stream, checked against the target's free space first. */
  estimate?: StreamEstimate;
}

export interface TransferResult {
  bytes: number;
  durationMs: number;
  /** The target already had the snapshot (an earlier attempt finished): nothing was sent. */
  alreadyReceived: boolean;
  warnings: string[];
  /** The target's snapshots once the stream is in: what its retention is planned on. */
  targetSnapshots: Snapshot[];
  /** The parent dataset this step created on the target for a full send. */
  createdParent?: string;
  /** What protectReplica changed on the replica (read-only, not mounted, not shared). */
  replicaChanged: string[];
}

export function createTransferActivities(deps: { transport: Transport }) {
  const { transport } = deps;
  return {
    /**
     * Starts opening the source's shared ssh connection to the target and returns at once (a
     * local activity in a run's first workflow task): the stream, a few steps later, finds it
     * authenticated. Never fails a run: without it the stream connects by itself and reports
     * what goes wrong.
     */
    openSharedConnection: (input: SharedConnectionInput): Promise<{ connection: string }> => openSharedConnection(transport, input),

    /** Streams one snapshot (or resumes one) from the source host to the target host. */
    sendSnapshot: (input: TransferInput): Promise<TransferResult> => sendSnapshot(transport, input),
  };
}

async function sendSnapshot(transport: Transport, input: TransferInput): Promise<TransferResult> {
  const holds = baseHolds(transport, input);
  const heartbeat = startHeartbeat<SendHeartbeat>({ bytes: 0, elapsedMs: 0, bytesPerSecond: 0 });
  try {
    await stopLeftovers(transport, input, heartbeat.previous);
    // Settled, not raced: a hold still on its way when another step fails would outlive the release.
    const [already, facts, , createdParent, room] = await settleAll(
      targetWith(transport, input.target, input.expectGuid),
      sourceFacts(transport, input),
      holds.take(),
      input.createParent ? ensureParentDataset(transport, input.target) : Promise.resolve(undefined),
      readRoom(transport, input.source, input.target, input.estimate),
    );
    if (already) {
      const { after, replica } = await receivedAndProtected(transport, input, holds.release());
      return { bytes: 0, durationMs: 0, alreadyReceived: true, warnings: replica.warnings, targetSnapshots: after, replicaChanged: replica.changed };
    }
    const warnings = counterWarnings(input, facts.counter);
    if (clearlyShort(room)) throw noRoomFailure(input.source, input.target, room);
    const sent = await runStream(transport, input, { ...facts, room }, heartbeat);
    const { after, replica } = await receivedAndProtected(transport, input, holds.release());
    stepLog()?.info('stream received', { source: `${input.source.host.name}:${input.source.dataset}`, target: `${input.target.host.name}:${input.target.dataset}`, bytes: sent.bytes, durationMs: sent.durationMs });
    return { ...sent, alreadyReceived: false, warnings: [...warnings, ...replica.warnings], targetSnapshots: after, replicaChanged: replica.changed, ...(createdParent ? { createdParent } : {}) };
  } finally {
    heartbeat.stop();
    await holds.release();
  }
}

/** The common base held (`zfs hold TAG`) on each end for the stream; released once, however the step ends. */
function baseHolds(transport: Transport, input: TransferInput): { take(): Promise<boolean[]>; release(): Promise<unknown> } {
  const holds = input.hold
    ? [{ ref: input.source, snapshot: input.hold.source }, { ref: input.target, snapshot: input.hold.target }]
    : [];
  const tag = input.hold?.tag ?? '';
  let released: Promise<unknown> | undefined;
  return {
    take: () => settleAll<boolean[]>(...holds.map((h) => holdSnapshot(transport, h.ref, h.snapshot, tag))),
    release: () => (released ??= Promise.all(holds.map((h) => releaseSnapshot(transport, h.ref, h.snapshot, tag)))),
  };
}

/** The target's snapshots when it has the one with `guid`; undefined when it does not (yet). */
async function targetWith(transport: Transport, target: DatasetRef, guid: string): Promise<Snapshot[] | undefined> {
  const snapshots = await snapshotsOf(transport, target);
  return snapshots?.some((s) => s.guid === guid) ? snapshots : undefined;
}

/** The replication user's home on the source (it must exist) and how the source counts bytes. */
async function sourceFacts(transport: Transport, input: TransferInput): Promise<{ home: string; counter: ByteCounter }> {
  const script = sh`${homeLookup(input.user)}; ${byteCounterProbe}`;
  const [home, counter] = (await transport.runOk(input.source.host, script, { timeoutMs: 30_000 })).stdout.trim().split('\n');
  if (!home || !home.startsWith('/')) {
    throw ApplicationFailure.nonRetryable(
      `${input.source.host.name}: replication user ${input.user} does not exist: run setupReplicationTrust (esxi-zfs trust FILE)`,
      Failure.TrustMissing,
    );
  }
  return { home, counter: parseByteCounter(counter ?? '') };
}

function counterWarnings(input: TransferInput, counter: ByteCounter): string[] {
  return counter === 'none'
    ? [`${input.source.host.name} has neither python3 (>= 3.10) nor pv to count bytes: no progress and no stall detection`]
    : [];
}

/**
 * The target's snapshots once it has the sent one, and the replica protected, read at once. In the
 * same step as the stream: a retry after a crash between them protects too, and a replica
 * received before replicas were protected is protected by its next run.
 */
async function receivedAndProtected(transport: Transport, input: TransferInput, released: Promise<unknown>): Promise<{ after: Snapshot[]; replica: ReplicaProtection }> {
  const [after, replica] = await Promise.all([
    // Listed after the release: the list retention plans on shows no hold of this run. The replica
    // is protected meanwhile (its properties, not the base's holds).
    released.then(() => targetWith(transport, input.target, input.expectGuid)),
    protectReplica(transport, input.target, input.recursive ?? false).catch((error: unknown) => error as Error),
  ]);
  if (!after) {
    throw ApplicationFailure.retryable(`the stream finished but ${input.target.dataset} on ${input.target.host.name} does not have the snapshot (guid ${input.expectGuid})`, Failure.NotReceived);
  }
  if (replica instanceof Error) throw replica;
  return { after, replica };
}

/** Promise.all that waits for every promise to settle before it throws the first failure. */
async function settleAll<T extends unknown[]>(...promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const outcomes = await Promise.allSettled(promises);
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<unknown>).value) as T;
}
