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
 * so that the stream finds it authenticated (send-command.ts).
 */
import { createInterface } from 'node:readline';
import { Failure } from '../../core/failures';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { HEARTBEAT_INTERVAL_MS, startHeartbeat, type Heartbeat } from '../heartbeat';
import { sh } from '../../core/quote';
import type { Transport } from '../transport';
import { guestProfile } from '../../core/guest/profile';
import { classifyReceiveError } from '../../core/zfs/parse';
import type { Snapshot } from '../../core/zfs/snapshot';
import { closerScript, homeLookup, openerScript, streamScript, type TargetConnection } from './send-command';
import { byteCounterProbe, parseByteCounter, type ByteCounter } from './byte-counter';
import { ensureParentDataset, holdSnapshot, releaseSnapshot, snapshotsOf, type DatasetRef } from './datasets';
import { protectReplica, type ReplicaProtection } from './replica';
import { clearlyShort, noRoomFailure, outOfSpaceFailure, readRoom, type Room, type StreamEstimate } from './space';
import type { TransferProgress } from '../../core/replication/shared';

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

/** How long a stopped stream has to end after TERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** What the send heartbeats: its progress, and the stream's process group and zfs send on the source. */
interface SendHeartbeat extends TransferProgress {
  sourcePid?: number;
  sendPid?: number;
}


interface Report {
  pid?: number;
  sendPid?: number;
  bytes: number;
  sendExit?: number;
  receiveExit?: number;
}

function readReport(line: string, report: Report): void {
  const tagged = /^esxi-zfs-(pid|send-pid|send-exit|receive-exit) (\d+)$/.exec(line.trim());
  if (tagged) {
    const value = Number(tagged[2]);
    if (tagged[1] === 'pid') report.pid = value;
    else if (tagged[1] === 'send-pid') report.sendPid = value;
    else if (tagged[1] === 'send-exit') report.sendExit = value;
    else report.receiveExit = value;
  } else if (/^\d+$/.test(line.trim())) {
    report.bytes = Math.max(report.bytes, Number(line.trim()));
  }
}

/** Promise.all that waits for every promise to settle before it throws the first failure. */
async function settleAll<T extends unknown[]>(...promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const outcomes = await Promise.allSettled(promises);
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<unknown>).value) as T;
}

function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

export interface SharedConnectionInput {
  source: DatasetRef;
  target: DatasetRef;
  user: string;
  ciphers: string[];
}

/** The replication user's way from the source to the target (its key and known_hosts are in its home). */
function targetConnection(input: SharedConnectionInput): Omit<TargetConnection, 'home'> {
  return { user: input.user, address: input.target.host.storageAddress, port: input.target.host.port ?? 22, ciphers: input.ciphers };
}

export function createTransferActivities(deps: { transport: Transport }) {
  const { transport } = deps;

  /** The target's snapshots when it has the one with `guid`; undefined when it does not (yet). */
  async function targetWith(target: DatasetRef, guid: string): Promise<Snapshot[] | undefined> {
    const snapshots = await snapshotsOf(transport, target);
    return snapshots?.some((s) => s.guid === guid) ? snapshots : undefined;
  }

  async function sourceFacts(input: TransferInput): Promise<{ home: string; counter: ByteCounter }> {
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

  /**
   * The target's snapshots once it has the sent one, and the replica protected, read at once. In the
   * same step as the stream: a retry after a crash between them protects too, and a replica
   * received before replicas were protected is protected by its next run.
   */
  async function receivedAndProtected(input: TransferInput): Promise<{ after: Snapshot[]; replica: ReplicaProtection }> {
    const [after, replica] = await Promise.all([
      targetWith(input.target, input.expectGuid),
      protectReplica(transport, input.target, input.recursive ?? false).catch((error: unknown) => error as Error),
    ]);
    if (!after) {
      throw ApplicationFailure.retryable(`the stream finished but ${input.target.dataset} on ${input.target.host.name} does not have the snapshot (guid ${input.expectGuid})`, Failure.NotReceived);
    }
    if (replica instanceof Error) throw replica;
    return { after, replica };
  }

  async function stopStream(input: TransferInput, pid: number | undefined): Promise<void> {
    if (pid === undefined) return;
    await transport.stopProcessGroup(input.source.host, pid, { graceMs: STOP_GRACE_MS }).catch(() => undefined);
  }

  /**
   * Stops the stream an earlier attempt started and could not stop (its worker died), once sure
   * `pid` is still that stream's process group (its leader's command line starts with the stream
   * script), and waits for it to end: a send and receive still running would collide with ours.
   */
  async function stopLeftoverStream(input: TransferInput, pid: number): Promise<void> {
    await transport.stopProcessGroup(input.source.host, pid, { graceMs: STOP_GRACE_MS, leaderMatching: 'esxi-zfs-pid' });
  }

  /**
   * Releases the holds a killed `zfs send` left: zfs-fuse's `send -I/-R` holds every snapshot it
   * sends as `.send-PID-N` (N from 0, one per filesystem) and only the send itself releases them,
   * so a send killed midway leaves its snapshots undestroyable ("dataset is busy") until the pool
   * is imported again. Only once that pid has ended; a pid in use again is left alone (its tags
   * could be another send's).
   */
  async function releaseSendHolds(input: TransferInput, sendPid: number): Promise<void> {
    const zfs = guestProfile(input.source.host.os).zfs;
    const pid = String(sendPid);
    const tag = `.send-${pid}-`;
    await transport.runScript(input.source.host, sh`n=0
while kill -0 ${pid} 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
kill -0 ${pid} 2>/dev/null && exit 0
filesystems=$(${zfs} list -H -o name -t filesystem,volume -r ${input.source.dataset} | wc -l)
${zfs} list -H -o name -t snapshot -r ${input.source.dataset} | while IFS= read -r snapshot; do
  i=0
  while [ $i -lt "$filesystems" ]; do ${zfs} release ${tag}"$i" "$snapshot" 2>/dev/null; i=$((i + 1)); done
done
true`, { timeoutMs: 120_000 }).catch(() => undefined);
  }

  function failure(input: TransferInput, report: Report, stderr: string, room: Room): Error {
    const where = `${input.source.host.name}:${input.source.dataset} -> ${input.target.host.name}:${input.target.dataset}`;
    const refusal = classifyReceiveError(stderr);
    if (refusal === 'out-of-space') return outOfSpaceFailure(input.source, input.target, room, report.bytes, input.resumable);
    if (refusal === 'target-modified') {
      // The workflow explains it with the snapshots it planned with (describeConflict): one type, one remedy.
      return ApplicationFailure.nonRetryable(`${where}: zfs receive refused the stream: the target was written to since the common snapshot.\n${tail(stderr)}`, Failure.TargetModified);
    }
    if (refusal) {
      return ApplicationFailure.nonRetryable(`${where}: zfs receive refused the stream (${refusal}); the target changed since this run read it. Nothing was destroyed.\n${tail(stderr)}`, Failure.ReceiveRefused);
    }
    if (report.receiveExit === 255 && /Host key verification failed|Permission denied|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
      return ApplicationFailure.nonRetryable(
        `${where}: the source cannot log in to the target as ${input.user}: run setupReplicationTrust (esxi-zfs trust FILE).\n${tail(stderr)}`,
        Failure.TrustMissing,
      );
    }
    if (/refused: /.test(stderr) && /esxi-zfs/.test(stderr)) {
      return ApplicationFailure.nonRetryable(`${where}: the target's receive guard refused the command: run setupReplicationTrust so it allows ${input.target.dataset}.\n${tail(stderr)}`, Failure.TrustMissing);
    }
    return ApplicationFailure.retryable(
      `${where}: stream failed (send exit ${report.sendExit ?? '?'}, receive exit ${report.receiveExit ?? '?'}) after ${report.bytes} bytes\n${tail(stderr)}`,
      Failure.StreamFailed,
    );
  }

  /** Runs the stream script; returns its byte count and duration, or throws why it failed. */
  async function stream(
    input: TransferInput,
    facts: { home: string; counter: ByteCounter; room: Room },
    heartbeat: Heartbeat<SendHeartbeat>,
  ): Promise<{ bytes: number; durationMs: number }> {
    const { home, counter } = facts;
    const script = streamScript({
      zfs: guestProfile(input.source.host.os).zfs,
      flags: input.flags,
      sendArgs: input.sendArgs,
      connection: { ...targetConnection(input), home },
      target: { dataset: input.target.dataset, resumable: input.resumable },
      counter,
    });

    const cancellation = heartbeat.cancellation;
    if (cancellation?.aborted) throw new CancelledFailure('replication cancelled before the stream started');
    const started = Date.now();
    const report: Report = { bytes: 0 };
    let lastMove = started;
    let lastBytes = 0;
    let stopped: 'stalled' | 'cancelled' | undefined;
    const progress = (): SendHeartbeat => {
      const elapsedMs = Date.now() - started;
      return {
        bytes: report.bytes,
        elapsedMs,
        bytesPerSecond: elapsedMs > 0 ? Math.round((report.bytes * 1000) / elapsedMs) : 0,
        sourcePid: report.pid,
        sendPid: report.sendPid,
      };
    };
    const stream = await transport.stream(input.source.host, script, {});
    const lines = createInterface({ input: stream.stdout });
    // The pids at once: a worker that dies in the stream's first second leaves them to the retry.
    lines.on('line', (line) => {
      const pids = `${report.pid} ${report.sendPid}`;
      readReport(line, report);
      if (`${report.pid} ${report.sendPid}` !== pids) heartbeat.update(progress(), true);
    });
    // The channel can close before readline has seen the last lines (the final count).
    const reportRead = new Promise<void>((resolve) => lines.once('close', resolve));
    const watchdog = setInterval(() => {
      if (report.bytes !== lastBytes) {
        lastBytes = report.bytes;
        lastMove = Date.now();
      }
      heartbeat.update(progress());
      if (counter !== 'none' && !stopped && Date.now() - lastMove > input.stallTimeoutMs) {
        stopped = 'stalled';
        void stopStream(input, report.pid);
      }
    }, HEARTBEAT_INTERVAL_MS);
    const onCancel = () => {
      if (stopped) return;
      stopped = 'cancelled';
      void stopStream(input, report.pid);
    };
    cancellation?.addEventListener('abort', onCancel);

    let stderr: string;
    try {
      const done = await stream.done;
      await reportRead;
      stderr = done.stderr;
    } finally {
      clearInterval(watchdog);
      cancellation?.removeEventListener('abort', onCancel);
      lines.close();
    }
    const durationMs = Date.now() - started;
    if (report.sendExit !== 0 && report.sendPid !== undefined) await releaseSendHolds(input, report.sendPid);
    if (stopped === 'cancelled') throw new CancelledFailure('replication cancelled: the stream was stopped on both ends');
    if (stopped === 'stalled') {
      throw ApplicationFailure.retryable(
        `stream stalled: no bytes for ${Math.round(input.stallTimeoutMs / 1000)} s after ${report.bytes} bytes; stopped on ${input.source.host.name} (will retry)`,
        Failure.StreamStalled,
      );
    }
    if (report.sendExit !== 0 || report.receiveExit !== 0) {
      const error = failure(input, report, stderr, facts.room);
      // A refused login or command may come from a shared connection older than the trust: stop it,
      // so that the run after the operator's `trust` logs in anew.
      if (error instanceof ApplicationFailure && error.type === Failure.TrustMissing) {
        await transport.runOk(input.source.host, closerScript(targetConnection(input)), { timeoutMs: 30_000 }).catch(() => undefined);
      }
      throw error;
    }
    return { bytes: report.bytes, durationMs };
  }

  return {
    /**
     * Starts opening the source's shared ssh connection to the target and returns at once (a
     * local activity in a run's first workflow task): the stream, a few steps later, finds it
     * authenticated. Never fails a run: without it the stream connects by itself and reports
     * what goes wrong.
     */
    async openSharedConnection(input: SharedConnectionInput): Promise<{ connection: string }> {
      try {
        return { connection: (await transport.runOk(input.source.host, openerScript(targetConnection(input)), { timeoutMs: 30_000 })).stdout.trim() };
      } catch (error) {
        return { connection: `direct: ${(error as Error).message.split('\n')[0]}` };
      }
    },

    /** Streams one snapshot (or resumes one) from the source host to the target host. */
    async sendSnapshot(input: TransferInput): Promise<TransferResult> {
      const holds = input.hold
        ? [{ ref: input.source, snapshot: input.hold.source }, { ref: input.target, snapshot: input.hold.target }]
        : [];
      const tag = input.hold?.tag ?? '';
      let released: Promise<unknown> | undefined;
      const release = () => (released ??= Promise.all(holds.map((h) => releaseSnapshot(transport, h.ref, h.snapshot, tag))));
      const heartbeat = startHeartbeat<SendHeartbeat>({ bytes: 0, elapsedMs: 0, bytesPerSecond: 0 });
      try {
        const leftover = heartbeat.previous;
        if (leftover?.sourcePid !== undefined) await stopLeftoverStream(input, leftover.sourcePid);
        if (leftover?.sendPid !== undefined) await releaseSendHolds(input, leftover.sendPid);
        // Settled, not raced: a hold still on its way when another step fails would outlive the release.
        const [already, facts, , createdParent, room] = await settleAll(
          targetWith(input.target, input.expectGuid),
          sourceFacts(input),
          settleAll<boolean[]>(...holds.map((h) => holdSnapshot(transport, h.ref, h.snapshot, tag))),
          input.createParent ? ensureParentDataset(transport, input.target) : Promise.resolve(undefined),
          readRoom(transport, input.source, input.target, input.estimate),
        );
        if (already) {
          await release();
          const { after, replica } = await receivedAndProtected(input);
          return { bytes: 0, durationMs: 0, alreadyReceived: true, warnings: replica.warnings, targetSnapshots: after, replicaChanged: replica.changed };
        }
        const warnings = facts.counter === 'none'
          ? [`${input.source.host.name} has neither python3 (>= 3.10) nor pv to count bytes: no progress and no stall detection`]
          : [];
        if (clearlyShort(room)) throw noRoomFailure(input.source, input.target, room);
        const sent = await stream(input, { ...facts, room }, heartbeat);
        // Read after the release: the list retention plans on shows no hold of this run.
        await release();
        const { after, replica } = await receivedAndProtected(input);
        return { ...sent, alreadyReceived: false, warnings: [...warnings, ...replica.warnings], targetSnapshots: after, replicaChanged: replica.changed, ...(createdParent ? { createdParent } : {}) };
      } finally {
        heartbeat.stop();
        await release();
      }
    },
  };
}
