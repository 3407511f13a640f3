/**
 * Running and watching the stream: the source runs the stream script (send-command.ts), which
 * reports its process group, its zfs send's pid, the byte count and both exits on stdout. The
 * worker reads that report, heartbeats it every second, stops the stream when it stalls or the
 * activity is cancelled, and says why it failed (stream-failure.ts).
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Failure } from '../../core/failures';
import { guestProfile } from '../../core/guest/profile';
import type { TransferProgress } from '../../core/replication/shared';
import { HEARTBEAT_INTERVAL_MS, type Heartbeat } from '../heartbeat';
import type { Transport } from '../transport';
import type { ByteCounter } from './byte-counter';
import { closeSharedConnection, targetConnection } from './connection';
import { streamScript } from './send-command';
import type { Room } from './space';
import { changedHostKey, streamFailure } from './stream-failure';
import { releaseSendHolds, stopStream } from './stream-stop';
import type { TransferInput } from './transfer';

/** What the send heartbeats: its progress, and the stream's process group and zfs send on the source. */
export interface SendHeartbeat extends TransferProgress {
  sourcePid?: number;
  sendPid?: number;
}

/** What the stream script has said on stdout so far. */
export interface StreamReport {
  pid?: number;
  sendPid?: number;
  bytes: number;
  sendExit?: number;
  receiveExit?: number;
}

/** What stopped the stream, when this attempt stopped it. */
export type StreamStop = 'stalled' | 'cancelled';

/** Runs the stream script; returns its byte count and duration, or throws why it failed. */
export async function runStream(
  transport: Transport,
  input: TransferInput,
  facts: { home: string; counter: ByteCounter; room: Room },
  heartbeat: Heartbeat<SendHeartbeat>,
): Promise<{ bytes: number; durationMs: number }> {
  const script = streamScript({
    zfs: guestProfile(input.source.host.os).zfs,
    flags: input.flags,
    sendArgs: input.sendArgs,
    connection: { ...targetConnection(input), home: facts.home },
    target: { dataset: input.target.dataset, resumable: input.resumable },
    counter: facts.counter,
  });
  if (heartbeat.cancellation?.aborted) throw new CancelledFailure('replication cancelled before the stream started');
  const started = Date.now();
  const report: StreamReport = { bytes: 0 };
  const progress = () => progressOf(report, started);
  const stream = await transport.stream(input.source.host, script, {});
  // The pids at once: a worker that dies in the stream's first second leaves them to the retry.
  const lines = readReport(stream.stdout, report, () => heartbeat.update(progress(), true));
  const watch = watchStream(transport, input, { counter: facts.counter, report, heartbeat, progress, started });
  let stderr: string;
  try {
    const done = await stream.done;
    await lines.read;
    stderr = done.stderr;
  } finally {
    watch.end();
    lines.close();
  }
  const durationMs = Date.now() - started;
  if (report.sendExit !== 0 && report.sendPid !== undefined) await releaseSendHolds(transport, input, report.sendPid);
  const pinned = changedHostKey(stderr) ? await pinnedFingerprint(transport, input, facts.home) : undefined;
  const error = streamFailure(input, { report, stopped: watch.stopped(), stderr, room: facts.room, pinned });
  if (error) {
    // A refused login or command may come from a shared connection older than the trust.
    if (error instanceof ApplicationFailure && error.type === Failure.TrustMissing) await closeSharedConnection(transport, input);
    throw error;
  }
  return { bytes: report.bytes, durationMs };
}

/** The fingerprint of the target's key in the replication user's known_hosts on the source; undefined when unreadable. */
async function pinnedFingerprint(transport: Transport, input: TransferInput, home: string): Promise<string | undefined> {
  const address = input.target.host.storageAddress;
  const found = await transport.run(input.source.host, ['ssh-keygen', '-l', '-F', address, '-f', `${home}/.ssh/known_hosts`], { timeoutMs: 30_000 }).catch(() => undefined);
  return found?.code === 0 ? /SHA256:[A-Za-z0-9+/]+/.exec(found.stdout)?.[0] : undefined;
}

function progressOf(report: StreamReport, started: number): SendHeartbeat {
  const elapsedMs = Date.now() - started;
  return {
    bytes: report.bytes,
    elapsedMs,
    bytesPerSecond: elapsedMs > 0 ? Math.round((report.bytes * 1000) / elapsedMs) : 0,
    sourcePid: report.pid,
    sendPid: report.sendPid,
  };
}

/**
 * Reads the stream's stdout into `report`, calling `onPids` when a pid is first said. `read`
 * resolves once the last line is in: the channel can close before readline has seen the last
 * lines (the final count).
 */
function readReport(stdout: Readable, report: StreamReport, onPids: () => void): { read: Promise<void>; close(): void } {
  const lines = createInterface({ input: stdout });
  lines.on('line', (line) => {
    const pids = `${report.pid} ${report.sendPid}`;
    readReportLine(line, report);
    if (`${report.pid} ${report.sendPid}` !== pids) onPids();
  });
  const read = new Promise<void>((resolve) => lines.once('close', resolve));
  return { read, close: () => lines.close() };
}

function readReportLine(line: string, report: StreamReport): void {
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

/**
 * Every heartbeat interval: the progress heartbeated, and the stream stopped when no byte moved
 * for the stall timeout since `started` (only where bytes are counted); the activity's cancellation stops it too.
 * Each stops it once; `stopped` says which did.
 */
function watchStream(
  transport: Transport,
  input: TransferInput,
  watched: { counter: ByteCounter; report: StreamReport; heartbeat: Heartbeat<SendHeartbeat>; progress: () => SendHeartbeat; started: number },
): { stopped(): StreamStop | undefined; end(): void } {
  const { counter, report, heartbeat, progress } = watched;
  let stopped: StreamStop | undefined;
  let lastMove = watched.started;
  let lastBytes = 0;
  const watchdog = setInterval(() => {
    if (report.bytes !== lastBytes) {
      lastBytes = report.bytes;
      lastMove = Date.now();
    }
    heartbeat.update(progress());
    if (counter !== 'none' && !stopped && Date.now() - lastMove > input.stallTimeoutMs) {
      stopped = 'stalled';
      void stopStream(transport, input, report.pid);
    }
  }, HEARTBEAT_INTERVAL_MS);
  const onCancel = () => {
    if (stopped) return;
    stopped = 'cancelled';
    void stopStream(transport, input, report.pid);
  };
  heartbeat.cancellation?.addEventListener('abort', onCancel);
  return {
    stopped: () => stopped,
    end() {
      clearInterval(watchdog);
      heartbeat.cancellation?.removeEventListener('abort', onCancel);
    },
  };
}
